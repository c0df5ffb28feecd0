// Appending one message to one conversation. Runs inside the conversation's
// Durable Object, one call at a time (see SerialQueue), so D1 is the system of
// record and the object is the FIFO in front of it.
import { appendGroupMessage, groupSendCheck } from "../db/groups";
import { appendMessage, type ConversationSide, type Database, type NewMessage, type Transaction } from "../db/queries";
import { type Failure, failure } from "./results";
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

export async function sendToConversation(db: Database, input: SendInput): Promise<SendResult> {
	const { message, transaction, group } = input;
	if (group) {
		// Checked here, in the object that also runs joins and removals, so a send cannot pass a concurrent kick.
		const check = await groupSendCheck(db, message.appId, group.groupId, message.fromUid);
		if (!check.exists) return failure(404, `Group ${group.groupId} does not exist.`);
		if (check.destroyed) return failure(403, `Group ${group.groupId} was destroyed; it takes no new messages.`);
		if (group.senderMustBeMember && !check.member)
			return failure(403, `User ${message.fromUid} is not a member of group ${group.groupId}.`);
	}
	const outcome = await once(db, { transaction, appId: message.appId, nowMs: message.timestamp, windowMs: input.dedupeWindowMs }, () =>
		group ? appendGroupMessage(db, message, transaction) : appendMessage(db, message, input.sender, input.receivers, transaction),
	);
	if (outcome.kind === "conflict") return failure(409, USED_FOR_OTHER);
	return outcome.kind === "done" ? { ok: true, msgId: outcome.value, replayed: false } : { ok: true, msgId: outcome.msgId, replayed: true };
}
