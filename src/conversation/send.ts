// Appending messages to one conversation. Runs inside the conversation's
// Durable Object, one write at a time (see SerialQueue), so D1 is the system
// of record and the object is the FIFO in front of it. Sends that queued up
// behind a running write go to D1 together in one batch (group commit).

import type { SQL } from "drizzle-orm";
import { NOTHING_OWED, type Owed } from "../db/callbacks";
import type { Database } from "../db/client";
import { isTransactionHit, type Transaction } from "../db/dedupe";
import { groupMessageStatements, groupSendCheck } from "../db/groups";
import { appendMessages, type ConversationSide, type MessageRow, messageStatements, type NewMessage } from "../db/messages";
import type { Audience } from "../db/presence";
import type { GroupFacts } from "./groupFacts";
import { type Failure, failure, storeFailed } from "./results";
import { once, USED_FOR_OTHER } from "./transactions";

export type SendInput = {
	message: NewMessage;
	/** Set for a group conversation: its members are the receivers. */
	group: { groupId: number; senderMustBeMember: boolean } | null;
	sender: ConversationSide | null;
	receivers: ConversationSide[];
	transaction: Transaction | null;
	dedupeWindowMs: number;
	requestId: string;
};

export type SendResult = { ok: true; msgId: number; replayed: boolean } | Failure;

const statementsOf = (input: SendInput) =>
	input.group
		? groupMessageStatements(input.message, input.transaction)
		: messageStatements(input.message, input.sender, input.receivers, input.transaction);

/** What a group-commit run did: each send's answer, and what the object passes on after answering. */
export type SendRun = {
	results: SendResult[];
	owed: Owed;
	alongsideCommitted: boolean;
	/** The messages written now (not replays), in commit order: for the realtime push. */
	written: MessageRow[];
	/** Who of the conversation was online when they committed. */
	online: number[];
};

/**
 * Sends queued messages of one conversation: a group's rules are checked once
 * for all of them (here, in the object that also runs joins and removals, so a
 * send cannot pass a concurrent kick; from the object's `facts` when it knows
 * them), then ONE batch writes them all. A
 * repeated transaction_id among them fails that batch; they are then sent one
 * by one, so each repeat is answered by the message it first created.
 * `alongside` statements ride in that one batch; `alongsideCommitted` says
 * whether they committed.
 */
export async function sendQueued(db: Database, inputs: SendInput[], alongside: SQL[] = [], facts?: GroupFacts): Promise<SendRun> {
	const results: SendResult[] = inputs.map(() => failure(503, "not sent"));
	const run: SendRun = { results, owed: NOTHING_OWED, alongsideCommitted: false, written: [], online: [] };
	const first = inputs[0];
	if (!first) return run;
	const appId = first.message.appId;
	const audience: Audience = first.group ? { groupId: first.group.groupId } : { users: [first.message.fromUid, first.message.toUid] };
	let ready = inputs.map((_, i) => i);
	const group = first.group;
	if (group) {
		const senders = [...new Set(inputs.map((i) => i.message.fromUid))];
		const check = facts?.known(senders) ?? (await groupSendCheck(db, appId, group.groupId, senders));
		facts?.learn(check, senders);
		ready = ready.filter((i) => {
			const input = inputs[i] as SendInput;
			const refused = !check.exists
				? failure(404, `Group ${group.groupId} does not exist.`)
				: check.destroyed
					? failure(403, `Group ${group.groupId} was destroyed; it takes no new messages.`)
					: input.group?.senderMustBeMember && !check.members.has(input.message.fromUid)
						? failure(403, `User ${input.message.fromUid} is not a member of group ${group.groupId}.`)
						: null;
			if (refused) results[i] = refused;
			return !refused;
		});
	}
	if (ready.length === 0) return run;
	try {
		const appended = await appendMessages(
			db,
			appId,
			ready.map((i) => statementsOf(inputs[i] as SendInput)),
			alongside,
			audience,
		);
		for (const [k, i] of ready.entries()) {
			const { id, timestamp } = appended.inserted[k] as { id: number; timestamp: number };
			results[i] = { ok: true, msgId: id, replayed: false };
			run.written.push(rowOf((inputs[i] as SendInput).message, id, timestamp));
		}
		return { ...run, owed: appended.owed, alongsideCommitted: true, online: appended.online };
	} catch (error) {
		if (!isTransactionHit(error)) throw error;
	}
	// Each is answered by its own fate: one failing midway fails only itself, not those already committed.
	const online = new Set<number>();
	for (const i of ready) {
		const input = inputs[i] as SendInput;
		try {
			const one = await sendOne(db, input, audience);
			results[i] = one.result;
			if (one.written) run.written.push(one.written);
			for (const user of one.online) online.add(user);
			run.owed = { rows: [...run.owed.rows, ...one.owed.rows], destination: one.owed.destination ?? run.owed.destination };
		} catch (failed) {
			results[i] = storeFailed(input.requestId, "Conversation.send", failed);
		}
	}
	return { ...run, online: [...online] };
}

/** The stored row of a message just written (what a history read would return). */
const rowOf = (message: NewMessage, id: number, timestamp: number): MessageRow => ({
	...message,
	id,
	timestamp,
	recalled: false,
	recalledBy: null,
});

/** One message, answering a repeated transaction_id with the message it first created. */
async function sendOne(
	db: Database,
	input: SendInput,
	audience: Audience,
): Promise<{ result: SendResult; owed: Owed; written: MessageRow | null; online: number[] }> {
	const { message, transaction } = input;
	const outcome = await once(db, { transaction, appId: message.appId, nowMs: message.timestamp, windowMs: input.dedupeWindowMs }, () =>
		appendMessages(db, message.appId, [statementsOf(input)], [], audience),
	);
	const nothing = { owed: NOTHING_OWED, written: null, online: [] };
	if (outcome.kind === "conflict") return { result: failure(409, USED_FOR_OTHER), ...nothing };
	if (outcome.kind === "replay") return { result: { ok: true, msgId: outcome.msgId, replayed: true }, ...nothing };
	const { inserted, owed, online } = outcome.value;
	const { id, timestamp } = inserted[0] as { id: number; timestamp: number };
	return { result: { ok: true, msgId: id, replayed: false }, owed, written: rowOf(message, id, timestamp), online };
}
