import { clock } from "../clock";
import { callConversation, groupKey } from "../conversation/key";
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
	handle: async ({ request, env, db, app, caller, body, session }) => {
		await managedGroup(db, app.id, caller, body.group_id);
		const registered = await existingUsers(db, app.id, body.user_list);
		const candidates = body.user_list.filter((userId) => registered.has(userId));
		// Who is already a member is decided by the group's object as it writes, not read here first.
		let joined = new Set<number>();
		if (candidates.length > 0) {
			const result = await callConversation(
				env,
				app.id,
				groupKey(body.group_id),
				{ requestId: request.requestId, at: "groupInvite", session },
				async (conversation) =>
					await conversation.join({
						appId: app.id,
						groupId: body.group_id,
						userIds: candidates,
						nowMs: clock.now(),
						requestId: request.requestId,
					}),
			);
			if (!result.ok) throw ApiError.from(result);
			joined = new Set(result.changed);
		}
		return {
			data: body.user_list.map((userId) =>
				changeRow(userId, !registered.has(userId) ? "user does not exist" : joined.has(userId) ? "" : "already a member"),
			),
		};
	},
});
