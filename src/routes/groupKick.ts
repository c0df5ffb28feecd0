import { callConversation, groupKey } from "../conversation/key";
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
	handle: async ({ request, env, db, app, caller, body, session }) => {
		const group = await managedGroup(db, app.id, caller, body.group_id);
		const candidates = body.user_list.filter((userId) => userId !== group.owner_id);
		// Who is a member is decided by the group's object as it writes, not read here first.
		let removed = new Set<number>();
		if (candidates.length > 0) {
			const result = await callConversation(
				env,
				app.id,
				groupKey(body.group_id),
				{ requestId: request.requestId, at: "groupKick", session },
				async (conversation) =>
					await conversation.remove({
						appId: app.id,
						groupId: body.group_id,
						userIds: candidates,
						requestId: request.requestId,
					}),
			);
			if (!result.ok) throw ApiError.from(result);
			removed = new Set(result.changed);
		}
		return {
			data: body.user_list.map((userId) =>
				changeRow(userId, userId === group.owner_id ? "the owner cannot be kicked" : removed.has(userId) ? "" : "not a member"),
			),
		};
	},
});
