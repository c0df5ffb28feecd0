import { z } from "zod";
import { ApiError } from "../http/envelope";
import { deviceSn, peerId } from "../http/ids";
import { endpoint } from "./contract";
import { myConversation } from "./myConversation";

export const messageAck = endpoint({
	methods: ["GET"],
	path: "/message/ack",
	tag: "Messages",
	summary: "Mark a conversation read",
	description:
		"Marks the caller's conversation read up to `msg_id` (inclusive), or, without `msg_id`, up to the newest message the caller can see. The read position only moves forward: an older `msg_id` is accepted and changes nothing. Records the device that read. An admin names the user with header `user_id`.",
	access: "token",
	query: z.object({
		conversation_id: peerId.meta({ description: "The peer user, the group, or 0 for notifications." }),
		msg_id: peerId
			.optional()
			.meta({ description: "Read up to this message (inclusive); 0 or absent: up to the newest message the caller can see." }),
		device_sn: deviceSn.optional().meta({ description: "The device that read; default the token's." }),
	}),
	data: z.literal(true),
	errors: { 404: "The peer, or msg_id in that conversation, does not exist.", 503: "A dependency failed; retry." },
	handle: async (input) => {
		const { me, conversationKey, call } = await myConversation(input, input.query.conversation_id, "messageAck");
		const result = await call(
			async (conversation) =>
				await conversation.ack({
					appId: input.app.id,
					conversationKey,
					userId: me.userId,
					msgId: input.query.msg_id ?? 0,
					deviceSn: input.query.device_sn ?? me.deviceSn,
					to: input.query.conversation_id,
					requestId: input.request.requestId,
				}),
		);
		if (!result.ok) throw ApiError.from(result);
		return { data: true as const };
	},
});
