// online_only sends (docs/API.md "Real-time delivery"): each target's conversation object
// relays the message or operation to the open channels of its recipients;
// nothing is stored, counted or called back, and msg_ids holds 0.
import { callConversation, groupKey, pairKey } from "../conversation/key";
import { type Failure, failure } from "../conversation/results";
import { OPERATIONS } from "../protocol";
import { outgoing } from "./fanOut";
import type { Operation } from "./operations";

export async function relayToTargets(
	env: Env,
	r: {
		appId: number;
		sender: { id: number; deviceSn: number; adminRights: boolean };
		input: Operation;
		/** A notification (/message/notify). */
		isSystem: boolean;
		requestId: string;
	},
): Promise<{ ok: true } | Failure> {
	const { appId, sender, input, isSystem, requestId } = r;
	if (OPERATIONS.has(input.content_type)) {
		if (input.targets.length !== 1)
			return failure(400, 'Field "targets" must name exactly one target for an operation (content_type 9-12).');
		if (!input.related_mid) return failure(400, 'Field "related_mid" is required for an operation (content_type 9-12).');
	}
	const results = await Promise.all(
		input.targets.map((target) => {
			const conversationKey = input.type === 2 ? groupKey(target) : pairKey(sender.id, target);
			return callConversation(env, appId, conversationKey, { requestId, at: "relayToTargets" }, async (conversation) => {
				const relayed: { ok: true } | Failure = await conversation.relay({
					// The timestamp is taken by the object.
					message: { ...outgoing(input, sender, isSystem), appId, conversationKey, toUid: target, timestamp: 0 },
					relatedMid: input.related_mid ?? 0,
					admin: sender.adminRights,
					requestId,
				});
				return relayed;
			});
		}),
	);
	return results.find((result): result is Failure => !result.ok) ?? { ok: true };
}
