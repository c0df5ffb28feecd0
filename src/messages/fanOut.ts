// Sending one message to each target (docs/API.md): every target's conversation
// gets its own Durable Object call, in parallel; the answers are merged in
// target order.
import { type BookmarkSink, callConversation, groupKey, pairKey } from "../conversation/key";
import type { Failure } from "../conversation/results";
import type { SendInput, SendResult } from "../conversation/send";
import type { NewMessage } from "../db/messages";

/** A message as the Worker sends it; its conversation's object gives it its timestamp. */
export type Outgoing = Omit<NewMessage, "appId" | "conversationKey" | "toUid" | "timestamp">;

/** The message a send or notify request describes (docs/API.md), from `sender`. */
export function outgoing(
	input: { type: 1 | 2; content_type: number; content: string; attachment: string; config: string; ext: string },
	sender: { id: number; deviceSn: number },
	isSystem: boolean,
): Outgoing {
	return {
		type: input.type,
		contentType: input.content_type,
		content: input.content,
		attachment: input.attachment,
		config: input.config,
		ext: input.ext,
		fromUid: sender.id,
		fromDeviceSn: sender.deviceSn,
		isSystem,
	};
}

export type SendRequest = {
	appId: number;
	message: Outgoing;
	targets: number[];
	transaction: { id: string; bodyHash: string } | null;
	/** Groups: false when the sender keeps admin rights (may send without being a member). */
	senderMustBeMember: boolean;
	dedupeWindowMs: number;
	requestId: string;
	session: BookmarkSink;
};

export type SendOutcome =
	| { kind: "sent"; msgIds: number[]; replayed: boolean }
	| { kind: "conflict"; message: string }
	| { kind: "rejected"; status: Failure["status"]; message: string }
	| { kind: "partial"; msgIds: number[]; failed: number[] };

export async function sendToTargets(env: Env, request: SendRequest): Promise<SendOutcome> {
	const { appId, message, transaction } = request;
	const results = await Promise.all(
		request.targets.map(async (targetId): Promise<SendResult> => {
			const toGroup = message.type === 2;
			const conversationKey = toGroup ? groupKey(targetId) : pairKey(message.fromUid, targetId);
			const input: SendInput = {
				message: { ...message, appId, conversationKey, toUid: targetId, timestamp: 0 }, // stamped in the object's queue
				group: toGroup ? { groupId: targetId, senderMustBeMember: request.senderMustBeMember } : null,
				// The system account (0) has no side of its own: it never reads.
				sender: message.fromUid === 0 ? null : { userId: message.fromUid, peerId: targetId },
				receivers: [{ userId: targetId, peerId: message.fromUid }],
				transaction: transaction
					? { senderId: message.fromUid, transactionId: transaction.id, targetId, bodyHash: transaction.bodyHash }
					: null,
				dedupeWindowMs: request.dedupeWindowMs,
				requestId: request.requestId,
			};
			return callConversation(
				env,
				appId,
				conversationKey,
				{ requestId: request.requestId, at: "sendToTargets", session: request.session },
				async (conversation) => conversation.send(input),
			);
		}),
	);
	// A write that failed in a way a retry cannot fix: 500, whatever the others did.
	const broken = results.find((r) => !r.ok && r.status === 500);
	if (broken && !broken.ok) return { kind: "rejected", status: 500, message: broken.message };
	const conflict = results.find((r) => !r.ok && r.status === 409);
	if (conflict && !conflict.ok) return { kind: "conflict", message: conflict.message };
	// A group that changed since the request was validated (destroyed, sender removed).
	const rejected = results.find((r) => !r.ok && r.status < 500);
	if (rejected && !rejected.ok && !results.some((r) => r.ok))
		return { kind: "rejected", status: rejected.status, message: rejected.message };
	const msgIds = results.map((r) => (r.ok ? r.msgId : 0));
	const failed = request.targets.filter((_, i) => !results[i]?.ok);
	if (failed.length > 0) return { kind: "partial", msgIds, failed };
	return { kind: "sent", msgIds, replayed: results.every((r) => r.ok && r.replayed) };
}
