// Appending messages to one conversation. Runs inside the conversation's
// Durable Object, one write at a time (see SerialQueue), so D1 is the system
// of record and the object is the FIFO in front of it. Sends that queued up
// behind a running write go to D1 together in one batch (group commit).

import type { SQL } from "drizzle-orm";
import { NOTHING_OWED, type Owed } from "../db/callbacks";
import type { Database } from "../db/client";
import { isTransactionHit, type Transaction } from "../db/dedupe";
import { groupMessageStatements, groupSendCheck } from "../db/groups";
import { appendMessages, type ConversationSide, messageStatements, type NewMessage } from "../db/messages";
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

/**
 * Sends queued messages of one conversation: a group's rules are checked once
 * for all of them (here, in the object that also runs joins and removals, so a
 * send cannot pass a concurrent kick), then ONE batch writes them all. A
 * repeated transaction_id among them fails that batch; they are then sent one
 * by one, so each repeat is answered by the message it first created.
 * `alongside` statements ride in that one batch; `alongsideCommitted` says
 * whether they committed.
 */
export async function sendQueued(
	db: Database,
	inputs: SendInput[],
	alongside: SQL[] = [],
): Promise<{ results: SendResult[]; owed: Owed; alongsideCommitted: boolean; newestTimestamp: number }> {
	const results: SendResult[] = inputs.map(() => failure(503, "not sent"));
	const appId = inputs[0]?.message.appId ?? 0;
	let owed = NOTHING_OWED;
	let ready = inputs.map((_, i) => i);
	const group = inputs[0]?.group;
	if (group) {
		const check = await groupSendCheck(db, inputs[0]?.message.appId ?? 0, group.groupId, [
			...new Set(inputs.map((i) => i.message.fromUid)),
		]);
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
	let newestTimestamp = 0;
	if (ready.length === 0) return { results, owed, alongsideCommitted: false, newestTimestamp };
	try {
		const appended = await appendMessages(
			db,
			appId,
			ready.map((i) => statementsOf(inputs[i] as SendInput)),
			alongside,
		);
		for (const [k, i] of ready.entries()) results[i] = { ok: true, msgId: appended.ids[k] as number, replayed: false };
		return { results, owed: appended.owed, alongsideCommitted: true, newestTimestamp: appended.newestTimestamp };
	} catch (error) {
		if (!isTransactionHit(error)) throw error;
		// Each is answered by its own fate: one failing midway fails only itself, not those already committed.
		for (const i of ready) {
			const input = inputs[i] as SendInput;
			try {
				const one = await sendOne(db, input);
				results[i] = one.result;
				newestTimestamp = Math.max(newestTimestamp, one.newestTimestamp);
				owed = { rows: [...owed.rows, ...one.owed.rows], destination: one.owed.destination ?? owed.destination };
			} catch (failed) {
				results[i] = storeFailed(input.requestId, "Conversation.send", failed);
			}
		}
	}
	return { results, owed, alongsideCommitted: false, newestTimestamp };
}

/** One message, answering a repeated transaction_id with the message it first created. */
async function sendOne(db: Database, input: SendInput): Promise<{ result: SendResult; owed: Owed; newestTimestamp: number }> {
	const { message, transaction } = input;
	const outcome = await once(db, { transaction, appId: message.appId, nowMs: message.timestamp, windowMs: input.dedupeWindowMs }, () =>
		appendMessages(db, message.appId, [statementsOf(input)]),
	);
	if (outcome.kind === "conflict") return { result: failure(409, USED_FOR_OTHER), owed: NOTHING_OWED, newestTimestamp: 0 };
	if (outcome.kind === "replay")
		return { result: { ok: true, msgId: outcome.msgId, replayed: true }, owed: NOTHING_OWED, newestTimestamp: 0 };
	const { ids, owed, newestTimestamp } = outcome.value;
	return { result: { ok: true, msgId: ids[0] as number, replayed: false }, owed, newestTimestamp };
}
