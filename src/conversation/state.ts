// Ack, recall, delete and edits of one conversation (SPEC §5.1b, §5.5–§5.7).
// They run inside the conversation's Durable Object, one at a time, each in one
// D1 round trip; the rules that decide an error message live here.

import { type Actor, NOTHING_OWED, type Owed } from "../db/callbacks";
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
import { groupOf } from "./key";
import { type Failure, failure } from "./results";
import { once, USED_FOR_OTHER } from "./transactions";

/** A write's answer, and the callbacks it owes (the object hands them to its drainer). */
export type Written<T> = { answer: T | Failure; owed: Owed };
const answered = <T>(answer: T): Written<T> => ({ answer, owed: NOTHING_OWED });
const refused = (answer: Failure): Written<never> => ({ answer, owed: NOTHING_OWED });

/** `to`: the other side of the conversation from the reader's view (peer user or group). */
export type AckInput = {
	appId: number;
	conversationKey: string;
	userId: number;
	msgId: number;
	deviceSn: number;
	to: number;
	nowMs: number;
};

export async function ack(db: Database, input: AckInput): Promise<Written<{ ok: true; readPosition: number }>> {
	const done = await ackConversation(db, input);
	if (done.readPosition !== null) return { answer: { ok: true, readPosition: done.readPosition }, owed: done.owed };
	// §5.5: a non-member of a group, or a member removed before msg_id, gets 403 whatever msg_id names.
	if (groupOf(input.conversationKey) !== null) {
		if (!done.side) return refused(failure(403, `User ${input.userId} is not a member of group ${input.to}.`));
		if (done.side.leftAt !== null && input.msgId > done.side.leftAt) {
			return refused(failure(403, `User ${input.userId} left group ${input.to} before message ${input.msgId}.`));
		}
	}
	return refused(
		input.msgId > 0 ? notInConversation(input.msgId) : failure(404, "The conversation is not in your list; there is nothing to mark read."),
	);
}

export type DeleteInput = { appId: number; conversationKey: string; userId: number };

export async function deleteFor(db: Database, input: DeleteInput): Promise<Written<{ ok: true }>> {
	if (await deleteConversationFor(db, input)) return answered({ ok: true as const });
	return refused(failure(404, "The conversation does not exist or is already deleted."));
}

export type RecallInput = {
	appId: number;
	conversationKey: string;
	msgId: number;
	permission: Permission;
	recallWindowS: number;
	requestId: string;
	actor: Actor;
	/** A group conversation: its group (only a current member or an admin may recall in it). */
	group: number | null;
	nowMs: number;
};

export async function recall(db: Database, input: RecallInput): Promise<Written<{ ok: true }>> {
	const { facts, isMember, owed } = await recallMessage(db, input);
	// §5.7: in a group, only a current member (or an admin) may recall, and anyone else gets 403 whatever msg_id names.
	if (!isMember && !input.permission.admin) {
		return refused(failure(403, `User ${input.permission.userId} is not a member of group ${input.group}.`));
	}
	if (!facts) return refused(notInConversation(input.msgId));
	if (facts.recalled) return { answer: { ok: true }, owed }; // now, or before: both are 200
	return refused(refusal(facts, input.permission, `recall it: the recall window of ${input.recallWindowS} s has passed`));
}

export type EditInput = Edit & { dedupeWindowMs: number };

export async function edit(db: Database, input: EditInput): Promise<Written<{ ok: true; replayed: boolean }>> {
	const outcome = await once(
		db,
		{ transaction: input.transaction, appId: input.appId, nowMs: input.nowMs, windowMs: input.dedupeWindowMs },
		() => editMessage(db, input),
	);
	if (outcome.kind === "conflict") return refused(failure(409, USED_FOR_OTHER));
	if (outcome.kind === "replay") return answered({ ok: true as const, replayed: true });
	const { facts, changed, group, owed } = outcome.value;
	if (changed) return { answer: { ok: true, replayed: false }, owed };
	// The rights of §5.3 come first, whatever msg_id names: a destroyed group takes no edits, a removed member makes none.
	if (group?.destroyed) return refused(failure(403, `Group ${input.group} was destroyed; it takes no edits.`));
	if (group && !group.member && !input.permission.admin) {
		return refused(failure(403, `User ${input.permission.userId} is not a member of group ${input.group}.`));
	}
	if (!facts) return refused(notInConversation(input.msgId));
	if (facts.recalled) return refused(failure(409, `Message ${input.msgId} was recalled; it cannot be edited.`));
	if (input.mode === "append" && (input.permission.admin || facts.fromUid === input.permission.userId)) {
		return refused(failure(400, `Field "content" would make message ${input.msgId} longer than ${MAX_CONTENT} characters.`));
	}
	return refused(refusal(facts, input.permission, "edit it"));
}

const notInConversation = (msgId: number) => failure(404, `Message ${msgId} is not a message of this conversation.`);

/** Why `permission` was not enough (mirrors `permitted` in db/conversationState.ts). */
function refusal(facts: MessageFacts, permission: Permission, late: string): Failure {
	if (facts.fromUid !== permission.userId) return failure(403, "Only the sender or an admin may change this message.");
	if (facts.isSystem) return failure(403, "Only an admin may recall a system message.");
	return failure(403, `It is too late to ${late}.`);
}
