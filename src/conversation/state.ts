// Ack, recall, delete and edits of one conversation (SPEC §5.1b, §5.5–§5.7).
// They run inside the conversation's Durable Object, one at a time, each in one
// D1 round trip; the rules that decide an error message live here.

import type { Database } from "../db/client";
import {
	ackConversation,
	deleteConversationFor,
	type Edit,
	editMessage,
	type MessageFacts,
	type Permission,
	recallMessage,
} from "../db/conversationState";
import { MAX_CONTENT } from "../limits";
import { type Failure, failure } from "./results";
import { once, USED_FOR_OTHER } from "./transactions";

export type AckInput = { appId: number; conversationKey: string; userId: number; msgId: number; deviceSn: number };
export type AckResult = { ok: true; readPosition: number } | Failure;

export async function ack(db: Database, input: AckInput): Promise<AckResult> {
	const done = await ackConversation(db, input);
	if (done) return { ok: true, ...done };
	return input.msgId > 0
		? notInConversation(input.msgId)
		: failure(404, "The conversation is not in your list; there is nothing to mark read.");
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
	const outcome = await once(
		db,
		{ transaction: input.transaction, appId: input.appId, nowMs: input.nowMs, windowMs: input.dedupeWindowMs },
		() => editMessage(db, input),
	);
	if (outcome.kind === "conflict") return failure(409, USED_FOR_OTHER);
	if (outcome.kind === "replay") return { ok: true, replayed: true };
	const { facts, changed } = outcome.value;
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
