import { z } from "zod";
import { ApiError, ok } from "../http/envelope";
import { id, peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { myConversation } from "./myConversation";

const query = z.object({ conversation_id: peerId, msg_id: id, device_sn: peerId.optional() });

/** GET /message/ack — marks the caller's conversation read up to msg_id (inclusive); forward only. */
export const messageAck: Handler = async (request, env) => {
	const { app, me, input, conversationKey, conversation } = await myConversation(request, env, query);
	const result = await conversation.ack({
		appId: app.id,
		conversationKey,
		userId: me.userId,
		msgId: input.msg_id,
		deviceSn: input.device_sn ?? me.deviceSn,
		requestId: request.requestId,
	});
	if (!result.ok) throw ApiError.from(result);
	return ok(true);
};
