// Appending one message to one conversation. Runs inside the conversation's
// Durable Object, one call at a time (see SerialQueue), so D1 is the system of
// record and the object is the FIFO in front of it.
import {
	appendMessage,
	type ConversationSide,
	type Database,
	findTransaction,
	forgetTransaction,
	isUniqueViolation,
	type NewMessage,
	type Transaction,
} from "../db/queries";
import { type Failure, storeUnavailable } from "./results";

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
	// Two rounds at most: the second only after forgetting an expired transaction.
	for (let round = 0; round < 2; round++) {
		try {
			const msgId = await appendMessage(db, message, input.sender, input.receivers, transaction);
			return { ok: true, msgId, replayed: false };
		} catch (error) {
			if (!transaction || !isUniqueViolation(error, "send_dedupe")) return dependencyFailed(input, error);
		}
		// The transaction was already executed (possibly by a request whose answer
		// was lost after D1 committed): answer with what it produced.
		try {
			const previous = await findTransaction(db, transaction, message.appId);
			if (!previous) return dependencyFailed(input, new Error("dedupe row vanished"));
			const windowStart = message.timestamp - input.dedupeWindowMs;
			if (previous.createdAt < windowStart) {
				await forgetTransaction(db, transaction, message.appId, windowStart);
				continue;
			}
			if (previous.bodyHash !== transaction.bodyHash) {
				return { ok: false, status: 409, message: "transaction_id was already used for a different request." };
			}
			return { ok: true, msgId: previous.msgId, replayed: true };
		} catch (error) {
			return dependencyFailed(input, error);
		}
	}
	return dependencyFailed(input, new Error("transaction could not be renewed"));
}

const dependencyFailed = (input: SendInput, error: unknown) => storeUnavailable(input.requestId, "sendToConversation", error);
