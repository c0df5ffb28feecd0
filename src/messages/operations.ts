// Content types 9-12 sent through /message/send (docs/API.md): operations on an
// existing message of the conversation between the sender and the one target.
// None creates a message; msg_ids answers the related message.
import { type BookmarkSink, callConversation, groupKey, pairKey } from "../conversation/key";
import { type Failure, failure } from "../conversation/results";
import type { AppRecord } from "../db/apps";
import type { Idempotency } from "../dedupe/replay";
import { APPEND, READ_ACK, RECALL } from "../protocol";

/** The fields of a send request that an operation reads. */
export type Operation = {
	type: 1 | 2;
	targets: number[];
	content_type: number;
	related_mid?: number;
	content: string;
	ext: string;
	config: string;
	attachment: string;
};

export type OperationRequest = {
	app: AppRecord;
	sender: { id: number; deviceSn: number; adminRights: boolean };
	operation: Operation;
	transaction: Idempotency | null;
	requestId: string;
	session: BookmarkSink;
};

export async function runOperation(env: Env, r: OperationRequest): Promise<{ ok: true; msgId: number; replayed: boolean } | Failure> {
	const { app, sender, operation: input, requestId, session } = r;
	const [target] = input.targets;
	if (input.targets.length !== 1 || target === undefined)
		return failure(400, 'Field "targets" must name exactly one target for an operation (content_type 9-12).');
	const msgId = input.related_mid ?? 0;
	if (msgId === 0) return failure(400, 'Field "related_mid" is required for an operation (content_type 9-12).');

	const conversationKey = input.type === 2 ? groupKey(target) : pairKey(sender.id, target);
	// Edits have no time limit; a recall's window is measured by the conversation's object.
	const permission = { admin: sender.adminRights, userId: sender.id, notBefore: null };
	return callConversation(env, app.id, conversationKey, { requestId, at: "runOperation", session }, async (conversation) => {
		const actor = { uid: sender.id, deviceSn: sender.deviceSn, to: target };
		let result: { ok: true; replayed?: boolean } | Failure;
		if (input.content_type === READ_ACK) {
			result = await conversation.ack({
				appId: app.id,
				conversationKey,
				userId: sender.id,
				msgId,
				deviceSn: sender.deviceSn,
				to: target,
				currentMemberOnly: input.type === 2,
				requestId,
			});
		} else if (input.content_type === RECALL) {
			result = await conversation.recall({
				appId: app.id,
				conversationKey,
				msgId,
				permission,
				recallWindowS: app.recallWindowS,
				requestId,
				actor,
				group: input.type === 2 ? target : null,
			});
		} else {
			const t = r.transaction;
			result = await conversation.edit({
				appId: app.id,
				conversationKey,
				msgId,
				permission,
				mode: input.content_type === APPEND ? "append" : "replace",
				content: input.content,
				ext: input.ext,
				config: input.config,
				attachment: input.attachment,
				transaction: t && { senderId: sender.id, transactionId: t.transactionId, targetId: target, bodyHash: t.hash },
				group: input.type === 2 ? target : null,
				actor,
				dedupeWindowMs: (r.transaction?.windowS ?? 0) * 1000,
				requestId,
			});
		}
		return result.ok ? { ok: true as const, msgId, replayed: result.replayed ?? false } : result;
	});
}
