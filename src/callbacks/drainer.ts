// A conversation's callback drainer (SPEC §6.2), owned by the conversation's
// Durable Object. Callbacks go out one at a time in commit order; the next
// only after the previous is delivered or dead-lettered; conversations never
// wait for each other (each object drains its own).
//
// Cheap on the happy path: a write hands over the callbacks it owes (its
// batch returned them, with the app's settings read in the same transaction),
// so the first attempt needs no D1 read; delivered callbacks are recorded in
// D1 together, a few seconds later (meanwhile the object's own storage keeps
// them, so an eviction neither loses nor repeats them). D1 is read when the
// object does not know everything owed: after an eviction, a retry, a
// redelivery, a sweep. The alarm is the backstop that brings the object back.
import { clock } from "../clock";
import { type Destination, type DueCallback, type Owed, recordDelivered, settleCallback, takeDue } from "../db/callbacks";
import type { Database } from "../db/client";
import { attemptDelivery } from "./deliver";

export type ConversationName = { appId: number; conversationKey: string };

/** Callbacks read from D1 at a time. */
const BATCH = 25;
/** Delivered callbacks are recorded in D1 at most this long after the first of them… */
const RECORD_AFTER_MS = 5_000;
/** …or as soon as this many have gathered. */
const RECORD_AT = 50;
/** If the object goes away while delivering, its alarm brings it back this soon. */
const BACKSTOP_MS = 15_000;
/** One run delivers for at most this long, then yields to a fresh alarm. */
const RUN_BUDGET_MS = 30_000;
/** After a D1 failure, try again this soon. */
const AFTER_FAILURE_MS = 5_000;

const NAME_KEY = "callbacks/name";
const DELIVERED_KEY = "callbacks/delivered";

type Known = { rows: DueCallback[]; destination: Destination; complete: boolean };
type Delivered = { ids: number[]; since: number };

export class CallbackDrainer {
	readonly #storage: DurableObjectStorage;
	readonly #db: () => Database;
	#name: ConversationName | null = null;
	/** Pending callbacks in commit order; `complete`: the object knows all of them (null: ask D1). */
	#known: Known | null = null;
	/** The highest callback id the object has known: one a D1 read already brought is not added twice. */
	#highest = 0;
	/** Bumped by every change to what is owed, so a D1 read that raced one does not claim to be complete. */
	#version = 0;
	/** Delivered, not yet recorded in D1 (undefined: not loaded from the object's storage yet). */
	#delivered: Delivered | null | undefined;
	#running: Promise<void> | null = null;

	constructor(storage: DurableObjectStorage, db: () => Database) {
		this.#storage = storage;
		this.#db = db;
	}

	/** A write committed these callbacks: they go out now, in the background (the write has answered or is about to). */
	async owe(name: ConversationName, owed: Owed): Promise<void> {
		if (owed.rows.length === 0) return;
		this.#version++;
		const known = this.#known;
		if (known?.complete && owed.destination) {
			known.rows.push(...owed.rows.filter((r) => r.id > this.#highest));
			known.destination = owed.destination;
			this.#highest = Math.max(this.#highest, ...owed.rows.map((r) => r.id));
		}
		await this.#remember(name);
		await this.#armBackstop();
		this.#start();
	}

	/** What is owed changed outside the object (a redelivery, the sweep): ask D1 again, and deliver. */
	async wake(name: ConversationName): Promise<void> {
		this.#version++;
		this.#known = null;
		await this.#remember(name);
		await this.#armBackstop();
		this.#start();
	}

	/** The object's alarm: deliver what is due, record what was delivered, set the next alarm. */
	async onAlarm(): Promise<void> {
		this.#name ??= (await this.#storage.get<ConversationName>(NAME_KEY)) ?? null;
		if (!this.#name) return;
		this.#start();
		await this.#running;
	}

	#start(): void {
		this.#running ??= this.#run().finally(() => {
			this.#running = null;
		});
	}

	async #run(): Promise<void> {
		try {
			for (;;) {
				const version = this.#version;
				const next = await this.#drain();
				await this.#recordDelivered(false);
				if (this.#version !== version) continue; // more was owed meanwhile
				const recordAt = this.#delivered ? this.#delivered.since + RECORD_AFTER_MS : null;
				const wakeAt = Math.min(next ?? Number.POSITIVE_INFINITY, recordAt ?? Number.POSITIVE_INFINITY);
				if (Number.isFinite(wakeAt)) await this.#storage.setAlarm(wakeAt);
				else await this.#storage.deleteAlarm();
				return;
			}
		} catch (error) {
			console.error(
				JSON.stringify({ at: "CallbackDrainer", conversation: this.#name, error: error instanceof Error ? error.name : "unknown" }),
			);
			this.#known = null;
			await this.#storage.setAlarm(clock.now() + AFTER_FAILURE_MS);
		}
	}

	/** Delivers due callbacks in order. Returns when the head is next due (a retry's backoff), or null: nothing owed. */
	async #drain(): Promise<number | null> {
		const name = this.#name;
		if (!name) return null;
		const stopAt = clock.now() + RUN_BUDGET_MS;
		for (;;) {
			let known = this.#known;
			if (!known || (known.rows.length === 0 && !known.complete)) {
				known = await this.#read(name);
				if (!known) return null;
			}
			const head = known.rows[0];
			if (!head) return null;
			const now = clock.now();
			if (head.nextAttemptAt > now) return head.nextAttemptAt;
			if (now >= stopAt) return now;
			const outcome = await attemptDelivery(head, known.destination, now);
			if (outcome.kind === "delivered") {
				known.rows.shift();
				await this.#noteDelivered(head.id);
				if ((this.#delivered?.ids.length ?? 0) >= RECORD_AT) await this.#recordDelivered(true);
				continue;
			}
			await settleCallback(this.#db(), outcome, clock.now());
			if (outcome.kind === "retry") {
				this.#known = null; // the next attempt reads the app's settings afresh
				return outcome.nextAttemptAt;
			}
			known.rows.shift(); // dead-lettered: the next one's turn
		}
	}

	async #read(name: ConversationName): Promise<Known | null> {
		const version = this.#version;
		const delivered = await this.#loadDelivered();
		const read = await takeDue(this.#db(), name.appId, name.conversationKey, delivered?.ids ?? [], BATCH);
		if (!read.destination) return null; // no such app
		this.#highest = Math.max(this.#highest, ...read.rows.map((r) => r.id));
		const known = { rows: read.rows, destination: read.destination, complete: read.rows.length < BATCH && this.#version === version };
		this.#known = known;
		return known;
	}

	async #noteDelivered(id: number): Promise<void> {
		const delivered = (await this.#loadDelivered()) ?? { ids: [], since: clock.now() };
		delivered.ids.push(id);
		this.#delivered = delivered;
		await this.#storage.put(DELIVERED_KEY, delivered);
	}

	/** Records delivered callbacks in D1 (when `now`, or when they have waited long enough). */
	async #recordDelivered(now: boolean): Promise<void> {
		const delivered = await this.#loadDelivered();
		if (!delivered || (!now && clock.now() < delivered.since + RECORD_AFTER_MS)) return;
		const ids = [...delivered.ids];
		await recordDelivered(this.#db(), ids, clock.now());
		const left = delivered.ids.filter((id) => !ids.includes(id)); // delivered while recording
		this.#delivered = left.length > 0 ? { ids: left, since: clock.now() } : null;
		if (this.#delivered) await this.#storage.put(DELIVERED_KEY, this.#delivered);
		else await this.#storage.delete(DELIVERED_KEY);
	}

	async #loadDelivered(): Promise<Delivered | null> {
		if (this.#delivered === undefined) this.#delivered = (await this.#storage.get<Delivered>(DELIVERED_KEY)) ?? null;
		return this.#delivered;
	}

	async #remember(name: ConversationName): Promise<void> {
		if (this.#name) return;
		this.#name = { appId: name.appId, conversationKey: name.conversationKey }; // callers may pass a larger object
		await this.#storage.put(NAME_KEY, this.#name);
	}

	async #armBackstop(): Promise<void> {
		if ((await this.#storage.getAlarm()) === null) await this.#storage.setAlarm(clock.now() + BACKSTOP_MS);
	}
}
