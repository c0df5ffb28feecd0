import { callConversation, groupKey } from "../conversation/key";
import { currentMembers } from "../db/groups";
import { managedGroup } from "../groups/access";
import { changeRow, memberChange } from "../groups/schemas";
import { ApiError } from "../http/envelope";
import { endpoint } from "./contract";

export const groupKick = endpoint({
	methods: ["DELETE", "POST"],
	path: "/group/kick",
	tag: "Groups",
	summary: "Remove members from a group",
	description:
		"The owner or an admin. A removed member keeps the history up to now and the conversation in their list until they delete it. One row per user: `result` false for a non-member or the owner.",
	access: "token",
	...memberChange,
	handle: async ({ request, env, db, app, caller, body }) => {
		const group = await managedGroup(db, app.id, caller, body.group_id);
		const members = await currentMembers(db, app.id, body.group_id, body.user_list);
		const rows = body.user_list.map((userId) => {
			const reason = userId === group.owner_id ? "the owner cannot be kicked" : members.has(userId) ? "" : "not a member";
			return changeRow(userId, reason);
		});
		const leaving = rows.filter((r) => r.result === "success").map((r) => r.user_id);
		if (leaving.length > 0) {
			const result = await callConversation(
				env,
				app.id,
				groupKey(body.group_id),
				{ requestId: request.requestId, at: "groupKick" },
				async (conversation) =>
					await conversation.remove({
						appId: app.id,
						groupId: body.group_id,
						userIds: leaving,
						requestId: request.requestId,
					}),
			);
			if (!result.ok) throw ApiError.from(result);
		}
		return { data: rows };
	},
});
