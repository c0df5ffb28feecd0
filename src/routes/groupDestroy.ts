import { z } from "zod";
import { callConversation, groupKey } from "../conversation/key";
import { managedGroup } from "../groups/access";
import { ApiError } from "../http/envelope";
import { id } from "../http/ids";
import { endpoint } from "./contract";

export const groupDestroy = endpoint({
	methods: ["DELETE", "POST"],
	path: "/group/destroy",
	tag: "Groups",
	summary: "Destroy a group",
	description: "The owner or an admin. The group takes no new messages; its history stays readable to its former members.",
	access: "token",
	query: z.object({ group_id: id }),
	data: z.literal(true),
	errors: { 403: "Not the owner or an admin.", 404: "No live group group_id.", 503: "A dependency failed; retry." },
	handle: async ({ request, env, db, app, caller, query, session }) => {
		await managedGroup(db, app.id, caller, query.group_id);
		const result = await callConversation(
			env,
			app.id,
			groupKey(query.group_id),
			{ requestId: request.requestId, at: "groupDestroy", session },
			async (conversation) =>
				await conversation.destroy({
					appId: app.id,
					groupId: query.group_id,
					requestId: request.requestId,
				}),
		);
		if (!result.ok) throw ApiError.from(result);
		return { data: true as const };
	},
});
