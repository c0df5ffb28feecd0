// Ack, recall, delete and edits of one conversation (docs/API.md).
// They run inside the conversation's Durable Object, one at a time, each in one
// D1 round trip; the rules that decide an error message live here.

import { type Actor, NOTHING_OWED, type Owed } from "../db/callbacks";
import type { Database } from "../db/client";
import {
	type Ack,
	ackConversation,
	deleteConversationFor,
	type Edit,
	editMessage,
	type MessageFacts,
	type Permission,
	type Results,
	readPositionSql,
	recallMessage,
} from "../db/conversationState";
import { messageRowOf, messageRowSql } from "../db/messages";
import { type Audience, onlineOf, onlineUserIds } from "../db/presence";
import type { Happening } from "../realtime/events";
import { appendTooLong, attachmentProblem, replacementAttachmentFits } from "../shapes/contentRules";
import { groupOf } from "./key";
import { audienceOf } from "./peer";
import { type Failure, failure, refusedField } from "./results";
import { once, USED_FOR_OTHER } from "./transactions";

/** What a committed write tells the channels of the users online in its conversation (docs/API.md "Real-time delivery"). */
export type Push = { online: number[]; happenings: Happening[] };

/**
 * A write's answer, the callbacks it owes (the object hands them to its
 * drainer), what it pushes, and the message it recalled now (callbacks still
 * owed about it go out as tombstones).
 */
export type Written<T> = { answer: T | Failure; owed: Owed; push?: Push; recalled?: number };

/**
 * The statements an edit or recall adds to its batch for its push: who is
 * online and can see the message, then the message as it is now.
 */
const pushReads = (appId: number, conversationKey: string, msgId: number) => [
	onlineOf(appId, audienceOf(conversationKey), { conversationKey, msgId }),
	messageRowSql(appId, msgId),
];
const answered = <T>(answer: T): Written<T> => ({ answer, owed: NOTHING_OWED });
const refused = (answer: Failure): Written<never> => ({ answer, owed: NOTHING_OWED });

export type AckInput = Ack;

export async function ack(db: Database, input: AckInput): Promise<Written<{ ok: true; readPosition: number }>> {
	// Pushed to those who can see the new read position's message (read after the batch's update).
	const readPosition = readPositionSql(input.appId, input.userId, input.conversationKey);
	const online = onlineOf(input.appId, audienceOf(input.conversationKey), { conversationKey: input.conversationKey, msgId: readPosition });
	const done = await ackConversation(db, input, [online]);
	if (done.readPosition !== null) {
		const where = audienceOf(input.conversationKey);
		const push: Push | undefined = done.moved
			? {
					online: onlineUserIds(done.also[0]),
					happenings: [{ kind: "read", where, userId: input.userId, msgId: done.readPosition, deviceSn: input.deviceSn }],
				}
			: undefined;
		return { answer: { ok: true, readPosition: done.readPosition }, owed: done.owed, push };
	}
	// docs/API.md: a non-member of a group, or a member removed before msg_id, gets 403 whatever msg_id names.
	if (groupOf(input.conversationKey) !== null) {
		if (!done.side) return refused(failure(403, `User ${input.userId} is not a member of group ${input.to}.`));
		if (done.side.leftAt !== null && input.currentMemberOnly) {
			return refused(failure(403, `User ${input.userId} is no longer a member of group ${input.to}.`));
		}
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
	// Told to the user's own other channels only.
	const mine: Audience = { users: [input.userId] };
	const done = await deleteConversationFor(db, input, [onlineOf(input.appId, mine)]);
	if (done.deleted) {
		const where = audienceOf(input.conversationKey);
		return {
			answer: { ok: true as const },
			owed: NOTHING_OWED,
			push: { online: onlineUserIds(done.also[0]), happenings: [{ kind: "conversation_deleted", where }] },
		};
	}
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
	const { facts, isMember, owed, also } = await recallMessage(db, input, pushReads(input.appId, input.conversationKey, input.msgId));
	// docs/API.md: in a group, only a current member (or an admin) may recall, and anyone else gets 403 whatever msg_id names.
	if (!isMember && !input.permission.admin) {
		return refused(failure(403, `User ${input.permission.userId} is not a member of group ${input.group}.`));
	}
	if (!facts) return refused(notInConversation(input.msgId));
	if (facts.recalled) {
		// Now, or before: both are 200; only a recall made now is pushed.
		const tombstone = facts.recalledBy === input.requestId ? messageRowOf(also[1]) : null;
		const push: Push | undefined = tombstone
			? {
					online: onlineUserIds(also[0]),
					happenings: [{ kind: "update", where: audienceOf(input.conversationKey), message: tombstone, onlineOnly: false }],
				}
			: undefined;
		return { answer: { ok: true }, owed, push, recalled: tombstone ? input.msgId : undefined };
	}
	return refused(refusal(facts, input.permission, `recall it: the recall window of ${input.recallWindowS} s has passed`));
}

export type EditInput = Edit & { dedupeWindowMs: number };

export async function edit(db: Database, input: EditInput): Promise<Written<{ ok: true; replayed: boolean }>> {
	// A REPLACE obeys the rules of a new message of the original's type; which type that is, the edit's own SQL decides.
	const attachmentFitsFiles = input.mode === "append" || replacementAttachmentFits(input.attachment);
	const outcome = await once(
		db,
		{ transaction: input.transaction, appId: input.appId, nowMs: input.nowMs, windowMs: input.dedupeWindowMs },
		() => editMessage(db, { ...input, attachmentFitsFiles }, pushReads(input.appId, input.conversationKey, input.msgId)),
	);
	if (outcome.kind === "conflict") return refused(failure(409, USED_FOR_OTHER));
	if (outcome.kind === "replay") return answered({ ok: true as const, replayed: true });
	const { facts, changed, group, owed, also } = outcome.value;
	if (changed) return { answer: { ok: true, replayed: false }, owed, push: editPush(input, also) };
	// The rights of docs/API.md come first, whatever msg_id names: a destroyed group takes no edits, a removed member makes none.
	if (group?.destroyed) return refused(failure(403, `Group ${input.group} was destroyed; it takes no edits.`));
	if (group && !group.member && !input.permission.admin) {
		return refused(failure(403, `User ${input.permission.userId} is not a member of group ${input.group}.`));
	}
	if (!facts) return refused(notInConversation(input.msgId));
	if (facts.recalled) return refused(failure(409, `Message ${input.msgId} was recalled; it cannot be edited.`));
	if (!input.permission.admin && facts.fromUid !== input.permission.userId) return refused(refusal(facts, input.permission, "edit it"));
	// Allowed, yet not applied: the content rules of the original's type (docs/API.md, "Edits through send").
	return refused(refusedField(input.mode === "append" ? appendTooLong(input.msgId) : attachmentProblem(facts.contentType)));
}

/** APPEND: the chunk (an empty one tells nobody anything); REPLACE: the message as it is now. */
function editPush(input: EditInput, also: Results): Push | undefined {
	const where = audienceOf(input.conversationKey);
	const online = onlineUserIds(also[0]);
	if (input.mode === "append") {
		if (input.content === "") return undefined;
		return { online, happenings: [{ kind: "append", where, msgId: input.msgId, content: input.content, onlineOnly: false }] };
	}
	const message = messageRowOf(also[1]);
	return message ? { online, happenings: [{ kind: "update", where, message, onlineOnly: false }] } : undefined;
}

const notInConversation = (msgId: number) => failure(404, `Message ${msgId} is not a message of this conversation.`);

/** Why `permission` was not enough (mirrors `permitted` in db/conversationState.ts). */
function refusal(facts: MessageFacts, permission: Permission, late: string): Failure {
	if (facts.fromUid !== permission.userId) return failure(403, "Only the sender or an admin may change this message.");
	if (facts.isSystem) return failure(403, "Only an admin may recall a system message.");
	return failure(403, `It is too late to ${late}.`);
}
