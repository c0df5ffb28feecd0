import { DurableObject } from "cloudflare:workers";
import { database } from "../db/queries";
import { type SendInput, type SendResult, sendToConversation } from "./send";
import { SerialQueue } from "./serialQueue";

/**
 * One object per conversation: the single writer of it. Every write runs
 * through one queue, so message ids commit in the order the object accepted
 * them and no write reads state another write is about to change.
 * It keeps nothing in memory that D1 does not also hold, so eviction loses
 * nothing (the queue is empty whenever the object is idle).
 */
export class Conversation extends DurableObject<Env> {
	readonly #writes = new SerialQueue();

	async send(input: SendInput): Promise<SendResult> {
		return this.#writes.run(() => sendToConversation(database(this.env.DB), input));
	}
}
