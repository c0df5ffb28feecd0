import { z } from "zod";
import { ApiError, ok } from "../http/envelope";
import { peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { myConversation } from "./myConversation";

const query = z.object({ conversation_id: peerId });

/** DELETE /message/conversation — removes the conversation from the caller's list only. */
export const messageConversationDelete: Handler = async (request, env) => {
	const { app, me, conversationKey, conversation } = await myConversation(request, env, query);
	const result = await conversation.deleteFor({ appId: app.id, conversationKey, userId: me.userId, requestId: request.requestId });
	if (!result.ok) throw ApiError.from(result);
	return ok(true);
};
