// Ack, recall, delete and edits of one conversation (SPEC §5.1b, §5.5–§5.7).
// They run inside the conversation's Durable Object, one at a time, each in one
// D1 round trip; the rules that decide an error message live here.
import {
	ackConversation,
	deleteConversationFor,
	type Edit,
	editMessage,
	type MessageFacts,
	type Permission,
	recallMessage,
} from "../db/conversationState";
import { type Database, findTransaction, forgetTransaction, isUniqueViolation } from "../db/queries";
import { MAX_CONTENT } from "../messages/contentTypes";
import { type Failure, failure } from "./results";

export type AckInput = { appId: number; conversationKey: string; userId: number; msgId: number; deviceSn: number };
export type AckResult = { ok: true; readPosition: number } | Failure;

export async function ack(db: Database, input: AckInput): Promise<AckResult> {
	const done = await ackConversation(db, input);
	return done ? { ok: true, ...done } : notInConversation(input.msgId);
}

export type DeleteInput = { appId: number; conversationKey: string; userId: number };

export async function deleteFor(db: Database, input: DeleteInput): Promise<{ ok: true } | Failure> {
	return (await deleteConversationFor(db, input)) ? { ok: true } : failure(404, "The conversation does not exist or is already deleted.");
}

export type RecallInput = {
	appId: number;
	conversationKey: string;
	msgId: number;
	permission: Permission;
	recallWindowS: number;
	requestId: string;
};

export async function recall(db: Database, input: RecallInput): Promise<{ ok: true } | Failure> {
	const facts = await recallMessage(db, input);
	if (!facts) return notInConversation(input.msgId);
	if (facts.recalled) return { ok: true }; // now, or before: both are 200
	return refusal(facts, input.permission, `recall it: the recall window of ${input.recallWindowS} s has passed`);
}

export type EditInput = Edit & { dedupeWindowMs: number };

export async function edit(db: Database, input: EditInput): Promise<{ ok: true; replayed: boolean } | Failure> {
	let outcome: Awaited<ReturnType<typeof editMessage>> | null = null;
	// Two rounds at most: the second only after forgetting an expired transaction.
	for (let round = 0; round < 2 && !outcome; round++) {
		try {
			outcome = await editMessage(db, input);
		} catch (error) {
			const t = input.transaction;
			if (!t || !isUniqueViolation(error, "send_dedupe")) throw error;
			// Already applied by this transaction (perhaps its answer was lost).
			const previous = await findTransaction(db, t, input.appId);
			const windowStart = input.nowMs - input.dedupeWindowMs;
			if (previous && previous.createdAt < windowStart) {
				await forgetTransaction(db, t, input.appId, windowStart);
				continue;
			}
			if (previous?.bodyHash !== t.bodyHash) return failure(409, "transaction_id was already used for a different request.");
			return { ok: true, replayed: true };
		}
	}
	if (!outcome) throw new Error("transaction could not be renewed");
	const { facts, changed } = outcome;
	if (!facts) return notInConversation(input.msgId);
	if (changed) return { ok: true, replayed: false };
	if (facts.recalled) return failure(409, `Message ${input.msgId} was recalled; it cannot be edited.`);
	if (input.mode === "append" && (input.permission.admin || facts.fromUid === input.permission.userId)) {
		return failure(400, `Field "content" would make message ${input.msgId} longer than ${MAX_CONTENT} characters.`);
	}
	return refusal(facts, input.permission, "edit it");
}

const notInConversation = (msgId: number) => failure(404, `Message ${msgId} is not a message of this conversation.`);

/** Why `permission` was not enough (mirrors `permitted` in db/conversationState.ts). */
function refusal(facts: MessageFacts, permission: Permission, late: string): Failure {
	if (facts.fromUid !== permission.userId) return failure(403, "Only the sender or an admin may change this message.");
	if (facts.isSystem) return failure(403, "Only an admin may recall a system message.");
	return failure(403, `It is too late to ${late}.`);
}
