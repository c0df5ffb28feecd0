import { z } from "zod";
import { callConversation, groupKey, groupOf } from "../conversation/key";
import { conversationWith, partiesOf } from "../conversation/peer";
import { findMessageFacts } from "../db/conversationState";
import { ApiError, notFound } from "../http/envelope";
import { id, peerId } from "../http/ids";
import { endpoint } from "./contract";

export const messageRecall = endpoint({
	methods: ["POST", "PUT"],
	path: "/message/recall",
	tag: "Messages",
	summary: "Recall a message",
	description:
		"The sender within the app's recall window (default 120 s), an app admin at any time, a group's admin (header `group_id`) any message of that group. The message stays in history as a tombstone for everyone; members who had not read it lose one unread. Recalling twice is 200. An app admin without `user_id` names the conversation by either of its users, or the group.",
	access: "token",
	body: z.object({ conversation_id: peerId.meta({ description: "The peer user, or the group." }), msg_id: id }),
	data: z.literal(true),
	errors: {
		403: "Not the sender, the window has passed, or a system message.",
		404: "No such message in that conversation.",
		503: "A dependency failed; retry.",
	},
	handle: async ({ request, env, db, app, caller, body, session }) => {
		let conversationKey: string;
		if (caller.kind === "user") {
			({ key: conversationKey } = await conversationWith(db, app.id, caller.userId, body.conversation_id, "conversation_id"));
		} else {
			// The app admin names the message's conversation by either of its users (or its group);
			// a group's admin, by that group.
			const facts = await findMessageFacts(db, app.id, body.msg_id);
			const named = facts ? partiesOf(facts.conversationKey) : [];
			const allowed = caller.kind === "admin" || facts?.conversationKey === groupKey(caller.groupId);
			if (!facts || !named.includes(body.conversation_id) || !allowed) {
				throw notFound(`Message ${body.msg_id} is not a message of conversation ${body.conversation_id}.`);
			}
			conversationKey = facts.conversationKey;
		}
		const at = { requestId: request.requestId, at: "messageRecall", session };
		const result = await callConversation(
			env,
			app.id,
			conversationKey,
			at,
			async (conversation) =>
				await conversation.recall({
					appId: app.id,
					conversationKey,
					msgId: body.msg_id,
					permission: {
						admin: caller.kind !== "user",
						userId: caller.kind === "user" ? caller.userId : 0,
					},
					recallWindowS: app.recallWindowS,
					requestId: request.requestId,
					// An app admin acting as no user: from uid 0, to the message's receiver.
					actor:
						caller.kind === "user"
							? { uid: caller.userId, deviceSn: caller.deviceSn, to: body.conversation_id }
							: { uid: 0, deviceSn: 0, to: null },
					group: groupOf(conversationKey),
				}),
		);
		if (!result.ok) throw ApiError.from(result);
		return { data: true as const };
	},
});
