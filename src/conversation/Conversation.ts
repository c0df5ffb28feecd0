import { DurableObject } from "cloudflare:workers";
import { drainCallbacks } from "../callbacks/drain";
import { clock } from "../clock";
import { type Database, database } from "../db/client";
import { destroyGroup, joinGroup, removeFromGroup } from "../db/groups";
import { type Failure, storeUnavailable } from "./results";
import { type SendInput, type SendResult, sendQueued } from "./send";
import { SerialQueue } from "./serialQueue";
import { type AckInput, ack, type DeleteInput, deleteFor, type EditInput, edit, type RecallInput, recall, type Written } from "./state";

/**
 * One object per conversation: the single writer of it. Every write runs
 * through one queue, so message ids commit in the order the object accepted
 * them and no write reads state another write is about to change.
 * It keeps nothing in memory that D1 does not also hold, so eviction loses
 * nothing (the queue is empty whenever the object is idle).
 *
 * It is also the drainer of its conversation's message callbacks: a write
 * that owes one wakes the alarm, and the alarm delivers them in order
 * (callbacks/drain.ts). The alarm, not a Queue, because it keeps a
 * conversation's order and needs no second write (PLATFORM-NOTES §18–19).
 */
/** At most this many queued sends per D1 batch (each is 3-4 statements). */
const MAX_GROUP_COMMIT = 25;

export class Conversation extends DurableObject<Env> {
	readonly #writes = new SerialQueue();

	/** Sends waiting here go to D1 together when the queue reaches them (group commit). */
	readonly #waiting: { input: SendInput; done: (result: SendResult) => void }[] = [];

	send(input: SendInput): Promise<SendResult> {
		return new Promise((done) => {
			this.#waiting.push({ input, done });
			if (this.#waiting.length === 1) void this.#writes.run(() => this.#sendWaiting());
		});
	}

	async #sendWaiting(): Promise<void> {
		const taken = this.#waiting.splice(0, MAX_GROUP_COMMIT);
		if (this.#waiting.length > 0) void this.#writes.run(() => this.#sendWaiting());
		const requestId = taken[0]?.input.requestId ?? "";
		let results: SendResult[];
		try {
			const sent = await sendQueued(
				database(this.env.DB),
				taken.map((t) => t.input),
			);
			results = sent.results;
			if (sent.callbacksOwed) await this.#wakeDrainer(taken[0]?.input.message ?? null);
		} catch (error) {
			results = taken.map(() => storeUnavailable(requestId, "Conversation.send", error));
		}
		for (const [i, t] of taken.entries()) t.done(results[i] as SendResult);
	}

	edit(input: EditInput & { requestId: string }) {
		return this.#serially("edit", input.requestId, (db) => edit(db, input), input);
	}

	ack(input: AckInput & { requestId: string }) {
		return this.#serially("ack", input.requestId, (db) => ack(db, input), input);
	}

	recall(input: RecallInput) {
		return this.#serially("recall", input.requestId, (db) => recall(db, input), input);
	}

	deleteFor(input: DeleteInput & { requestId: string }) {
		return this.#serially("deleteFor", input.requestId, (db) => deleteFor(db, input));
	}

	join(input: { appId: number; groupId: number; userIds: number[]; nowMs: number; requestId: string }) {
		return this.#membership("join", input.requestId, (db) => joinGroup(db, input.appId, input.groupId, input.userIds, input.nowMs));
	}

	remove(input: { appId: number; groupId: number; userIds: number[]; requestId: string }) {
		return this.#membership("remove", input.requestId, (db) => removeFromGroup(db, input.appId, input.groupId, input.userIds));
	}

	destroy(input: { appId: number; groupId: number; requestId: string }) {
		return this.#membership("destroy", input.requestId, (db) => destroyGroup(db, input.appId, input.groupId));
	}

	/** Membership changes run in the queue too, so a send cannot pass a concurrent kick. */
	#membership(at: string, requestId: string, write: (db: Database) => Promise<void>) {
		return this.#serially(at, requestId, async (db) => {
			await write(db);
			return { answer: { ok: true as const }, callbacksOwed: false };
		});
	}

	#serially<T>(
		at: string,
		requestId: string,
		task: (db: Database) => Promise<Written<T>>,
		where?: { appId: number; conversationKey: string },
	): Promise<T | Failure> {
		return this.#writes.run(async () => {
			try {
				const written = await task(database(this.env.DB));
				if (written.callbacksOwed && where) await this.#wakeDrainer(where);
				return written.answer;
			} catch (error) {
				return storeUnavailable(requestId, `Conversation.${at}`, error);
			}
		});
	}

	// ---- message callbacks ------------------------------------------------

	/** Wakes the drainer (the sweep and redelivery call this for callbacks owed without a wake-up). */
	async deliverCallbacks(where: { appId: number; conversationKey: string }): Promise<void> {
		await this.#wakeDrainer(where);
	}

	/**
	 * Arms the alarm now unless it is armed (then it is a retry's backoff, which
	 * later callbacks wait for anyway); remembers which conversation this object
	 * is. Inside a running alarm getAlarm() is null, so a callback owed during a
	 * drain gets a fresh run.
	 */
	async #wakeDrainer(where: { appId: number; conversationKey: string } | null): Promise<void> {
		if (!where) return;
		if (!this.#named) {
			await this.ctx.storage.put(NAME, { appId: where.appId, conversationKey: where.conversationKey });
			this.#named = true;
		}
		if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(clock.now());
	}

	#named = false;
	#draining = false;

	/** Delivers due callbacks in order, then sleeps until the next is due (a retry's backoff) or one is owed. */
	override async alarm(): Promise<void> {
		const where = await this.ctx.storage.get<{ appId: number; conversationKey: string }>(NAME);
		if (!where) return;
		if (this.#draining) {
			await this.ctx.storage.setAlarm(clock.now() + 1_000); // a run is under way: come back after it
			return;
		}
		this.#draining = true;
		try {
			const next = await drainCallbacks(database(this.env.DB), where.appId, where.conversationKey);
			if (next !== null) await this.ctx.storage.setAlarm(next);
		} catch (error) {
			// D1 failed: try again shortly (the alarm's own retries would give up after six).
			console.error(JSON.stringify({ at: "Conversation.alarm", error: error instanceof Error ? error.name : "unknown" }));
			await this.ctx.storage.setAlarm(clock.now() + 5_000);
		} finally {
			this.#draining = false;
		}
	}
}

/** The object's storage key for which conversation it is (an alarm carries no arguments). */
const NAME = "conversation";
