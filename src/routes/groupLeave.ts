import { z } from "zod";
import { requireUser } from "../auth/identity";
import { callConversation, groupKey } from "../conversation/key";
import { liveGroup } from "../groups/access";
import { ApiError, forbidden, notFound } from "../http/envelope";
import { id } from "../http/ids";
import { endpoint } from "./contract";

export const groupLeave = endpoint({
	methods: ["DELETE", "POST"],
	path: "/group/leave",
	tag: "Groups",
	summary: "Leave a group",
	description: "A member leaves (keeping the history up to now); the owner only through an admin acting for them (header `user_id`).",
	access: "token",
	query: z.object({ group_id: id }),
	data: z.literal(true),
	errors: { 403: "The owner cannot leave.", 404: "No live group, or not a member.", 503: "A dependency failed; retry." },
	handle: async ({ request, env, db, app, caller, query, session }) => {
		const me = requireUser(caller);
		const group = await liveGroup(db, app.id, query.group_id);
		if (group.owner_id === me.userId && !(caller.kind === "user" && caller.viaAdmin)) {
			throw forbidden(`The owner cannot leave group ${query.group_id}: destroy it, or an admin acts for the owner.`);
		}
		const result = await callConversation(
			env,
			app.id,
			groupKey(query.group_id),
			{ requestId: request.requestId, at: "groupLeave", session },
			async (conversation) =>
				await conversation.remove({
					appId: app.id,
					groupId: query.group_id,
					userIds: [me.userId],
					requestId: request.requestId,
				}),
		);
		if (!result.ok) throw ApiError.from(result);
		// Whether they were a member is what the removal found (decided in the group's object).
		if (!result.changed.includes(me.userId)) throw notFound(`User ${me.userId} is not a member of group ${query.group_id}.`);
		return { data: true as const };
	},
});
