// Appending one message to one conversation. Runs inside the conversation's
// Durable Object, one call at a time (see SerialQueue), so D1 is the system of
// record and the object is the FIFO in front of it.
import { appendMessage, type ConversationSide, type Database, type NewMessage, type Transaction } from "../db/queries";
import { type Failure, failure } from "./results";
import { once, USED_FOR_OTHER } from "./transactions";

export type SendInput = {
	message: NewMessage;
	sender: ConversationSide | null;
	receivers: ConversationSide[];
	transaction: Transaction | null;
	dedupeWindowMs: number;
	requestId: string;
};

export type SendResult = { ok: true; msgId: number; replayed: boolean } | Failure;

export async function sendToConversation(db: Database, input: SendInput): Promise<SendResult> {
	const { message, transaction } = input;
	const outcome = await once(db, { transaction, appId: message.appId, nowMs: message.timestamp, windowMs: input.dedupeWindowMs }, () =>
		appendMessage(db, message, input.sender, input.receivers, transaction),
	);
	if (outcome.kind === "conflict") return failure(409, USED_FOR_OTHER);
	return outcome.kind === "done" ? { ok: true, msgId: outcome.value, replayed: false } : { ok: true, msgId: outcome.msgId, replayed: true };
}
