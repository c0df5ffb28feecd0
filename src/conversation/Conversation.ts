import { DurableObject } from "cloudflare:workers";
import { type Database, database } from "../db/queries";
import { type Failure, storeUnavailable } from "./results";
import { type SendInput, type SendResult, sendToConversation } from "./send";
import { SerialQueue } from "./serialQueue";
import { type AckInput, ack, type DeleteInput, deleteFor, type EditInput, edit, type RecallInput, recall } from "./state";

/**
 * One object per conversation: the single writer of it. Every write runs
 * through one queue, so message ids commit in the order the object accepted
 * them and no write reads state another write is about to change.
 * It keeps nothing in memory that D1 does not also hold, so eviction loses
 * nothing (the queue is empty whenever the object is idle).
 */
export class Conversation extends DurableObject<Env> {
	readonly #writes = new SerialQueue();

	send(input: SendInput): Promise<SendResult> {
		return this.#serially("send", input.requestId, (db) => sendToConversation(db, input));
	}

	edit(input: EditInput & { requestId: string }) {
		return this.#serially("edit", input.requestId, (db) => edit(db, input));
	}

	ack(input: AckInput & { requestId: string }) {
		return this.#serially("ack", input.requestId, (db) => ack(db, input));
	}

	recall(input: RecallInput) {
		return this.#serially("recall", input.requestId, (db) => recall(db, input));
	}

	deleteFor(input: DeleteInput & { requestId: string }) {
		return this.#serially("deleteFor", input.requestId, (db) => deleteFor(db, input));
	}

	#serially<T>(at: string, requestId: string, task: (db: Database) => Promise<T>): Promise<T | Failure> {
		return this.#writes.run(async () => {
			try {
				return await task(database(this.env.DB));
			} catch (error) {
				return storeUnavailable(requestId, `Conversation.${at}`, error);
			}
		});
	}
}
