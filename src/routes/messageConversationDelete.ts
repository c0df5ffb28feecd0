import { z } from "zod";
import { ApiError } from "../http/envelope";
import { peerId } from "../http/ids";
import { endpoint } from "./contract";
import { myConversation } from "./myConversation";

export const messageConversationDelete = endpoint({
	methods: ["DELETE"],
	path: "/message/conversation",
	tag: "Messages",
	summary: "Delete a conversation from the caller's list",
	description:
		"Removes the conversation from the caller's list only: unread becomes 0 and history before now is no longer returned to the caller. Other members see no change; a later message brings it back with only the new messages.",
	access: "token",
	query: z.object({ conversation_id: peerId.meta({ description: "The peer user, the group, or 0 for notifications." }) }),
	data: z.literal(true),
	errors: { 404: "Unknown or already deleted conversation.", 503: "A dependency failed; retry." },
	handle: async (input) => {
		const { me, conversationKey, call } = await myConversation(input, input.query.conversation_id, "messageConversationDelete");
		const result = await call(
			async (conversation) =>
				await conversation.deleteFor({ appId: input.app.id, conversationKey, userId: me.userId, requestId: input.request.requestId }),
		);
		if (!result.ok) throw ApiError.from(result);
		return { data: true as const };
	},
});
