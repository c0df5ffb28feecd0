import { clock } from "../clock";
import { callConversation, groupKey } from "../conversation/key";
import { currentMembers } from "../db/groups";
import { existingUsers } from "../db/memo";
import { managedGroup } from "../groups/access";
import { changeRow, memberChange } from "../groups/schemas";
import { ApiError } from "../http/envelope";
import { endpoint } from "./contract";

export const groupInvite = endpoint({
	methods: ["POST"],
	path: "/group/invite",
	tag: "Groups",
	summary: "Add members to a group",
	description:
		"The owner or an admin; members join at once. One row per user: `result` false with a `reason` for a user who does not exist or is already a member.",
	access: "token",
	...memberChange,
	handle: async ({ request, env, db, app, caller, body }) => {
		await managedGroup(db, app.id, caller, body.group_id);
		const [registered, members] = await Promise.all([
			existingUsers(db, app.id, body.user_list),
			currentMembers(db, app.id, body.group_id, body.user_list),
		]);
		const rows = body.user_list.map((userId) => {
			const reason = !registered.has(userId) ? "user does not exist" : members.has(userId) ? "already a member" : "";
			return changeRow(userId, reason);
		});
		const joining = rows.filter((r) => r.result === "success").map((r) => r.user_id);
		if (joining.length > 0) {
			const result = await callConversation(
				env,
				app.id,
				groupKey(body.group_id),
				{ requestId: request.requestId, at: "groupInvite" },
				async (conversation) =>
					await conversation.join({
						appId: app.id,
						groupId: body.group_id,
						userIds: joining,
						nowMs: clock.now(),
						requestId: request.requestId,
					}),
			);
			if (!result.ok) throw ApiError.from(result);
		}
		return { data: rows };
	},
});
