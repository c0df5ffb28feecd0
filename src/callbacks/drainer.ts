// A conversation's callback drainer (docs/API.md "Message callbacks"), owned by the conversation's
// Durable Object. Callbacks go out one at a time in commit order; the next
// only after the previous is delivered or dead-lettered; conversations never
// wait for each other (each object drains its own).
//
// Cheap on the happy path: a write hands over the callbacks it owes (its
// batch returned them, with the app's settings read in the same transaction),
// so the first attempt needs no D1 read; delivered callbacks are recorded
// (deleted) in D1 together, by the conversation's next write or a few seconds
// later. D1 is read when the object does not know everything owed: after an
// eviction, a retry, a redelivery, a sweep. One alarm both records and brings
// the object back if it goes away. If the object dies between a delivery and
// its recording (at most RECORD_AFTER_MS), that callback is sent again with
// the same x-webhook-id: delivery is at least once, and receivers dedupe on
// the id (docs/API.md, "Message callbacks").
import { clock } from "../clock";
import { type Destination, type DueCallback, type Owed, recordDelivered, settleCallback, takeDue } from "../db/callbacks";
import type { Database } from "../db/client";
import { attemptDelivery } from "./deliver";

export type ConversationName = { appId: number; conversationKey: string };

/** Callbacks read from D1 at a time. */
const BATCH = 25;
/**
 * Delivered callbacks are recorded in D1 at most this long after the first of
 * them (or by a write of the conversation before)… It is also how soon the
 * alarm brings the object back if it goes away while delivering: one alarm
 * does both, so a burst of callbacks costs the object one alarm write.
 */
const RECORD_AFTER_MS = 5_000;
/** …or as soon as this many have gathered. */
const RECORD_AT = 50;
/** One run delivers for at most this long, then yields to a fresh alarm. */
const RUN_BUDGET_MS = 30_000;
/** After a D1 failure, try again this soon. */
const AFTER_FAILURE_MS = 5_000;

const NAME_KEY = "callbacks/name";

type Known = { rows: DueCallback[]; destination: Destination; complete: boolean };
type Delivered = { ids: number[]; since: number };

export class CallbackDrainer {
	readonly #storage: DurableObjectStorage;
	/** The database of the conversation's app (apps live on one of several: src/db/databases.ts). */
	readonly #db: (appId: number) => Promise<Database>;
	#name: ConversationName | null = null;
	/** Pending callbacks in commit order; `complete`: the object knows all of them (null: ask D1). */
	#known: Known | null = null;
	/** The highest callback id the object has known: one a D1 read already brought is not added twice. */
	#highest = 0;
	/** Bumped by every change to what is owed, so a D1 read that raced one does not claim to be complete. */
	#version = 0;
	/** Delivered, not yet recorded in D1. */
	#delivered: Delivered | null = null;
	/** The alarm as this instance knows it (undefined: not read yet; null: none). */
	#alarmAt: number | null | undefined;
	#running: Promise<void> | null = null;
	#again = false;
	/** The alarm rang: the next run records what was delivered, whenever the first of it was. */
	#recordDue = false;

	/** The deployment allows plain-http and private callback URLs (checked again at every attempt). */
	readonly #allowPrivate: boolean;

	constructor(storage: DurableObjectStorage, db: (appId: number) => Promise<Database>, allowPrivate: boolean) {
		this.#storage = storage;
		this.#db = db;
		this.#allowPrivate = allowPrivate;
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

	/**
	 * The conversation's object recalled `msgId`: callbacks about it not yet
	 * sent go out as tombstones (docs/API.md, "Message callbacks"). Those not
	 * in memory are read from D1 with the message's state.
	 */
	recalled(msgId: number): void {
		for (const row of this.#known?.rows ?? []) if (row.msgId === msgId) row.recalled = true;
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
		this.#alarmAt = null; // this alarm is spent
		this.#recordDue = true;
		this.#name ??= (await this.#storage.get<ConversationName>(NAME_KEY)) ?? null;
		if (!this.#name) return;
		this.#start();
		await this.#running;
	}

	/** One run at a time; a start during a run makes another run follow it (so nothing owed meanwhile waits for the alarm). */
	#start(): void {
		if (this.#running) {
			this.#again = true;
			return;
		}
		this.#running = this.#run().finally(() => {
			this.#running = null;
			if (this.#again) {
				this.#again = false;
				this.#start();
			}
		});
	}

	async #run(): Promise<void> {
		try {
			const next = await this.#drain();
			const recordNow = this.#recordDue;
			this.#recordDue = false;
			await this.#recordDelivered(recordNow);
			const recordAt = this.#delivered ? this.#delivered.since + RECORD_AFTER_MS : null;
			const wakeAt = Math.min(next ?? Number.POSITIVE_INFINITY, recordAt ?? Number.POSITIVE_INFINITY);
			if (Number.isFinite(wakeAt)) await this.#alarmBy(wakeAt);
		} catch (error) {
			console.error(
				JSON.stringify({ at: "CallbackDrainer", conversation: this.#name, error: error instanceof Error ? error.name : "unknown" }),
			);
			this.#known = null;
			await this.#alarmBy(clock.now() + AFTER_FAILURE_MS);
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
			const outcome = await attemptDelivery(head, known.destination, this.#allowPrivate);
			if (outcome.kind === "delivered") {
				known.rows.shift();
				this.#noteDelivered(head.id);
				if ((this.#delivered?.ids.length ?? 0) >= RECORD_AT) await this.#recordDelivered(true);
				continue;
			}
			await settleCallback(await this.#db(name.appId), outcome, clock.now());
			if (outcome.kind === "retry") {
				this.#known = null; // the next attempt reads the app's settings afresh
				return outcome.nextAttemptAt;
			}
			known.rows.shift(); // dead-lettered: the next one's turn
		}
	}

	async #read(name: ConversationName): Promise<Known | null> {
		const version = this.#version;
		const read = await takeDue(await this.#db(name.appId), name.appId, name.conversationKey, this.#delivered?.ids ?? [], BATCH);
		if (!read.destination) return null; // no such app
		this.#highest = Math.max(this.#highest, ...read.rows.map((r) => r.id));
		const known = { rows: read.rows, destination: read.destination, complete: read.rows.length < BATCH && this.#version === version };
		this.#known = known;
		return known;
	}

	#noteDelivered(id: number): void {
		this.#delivered ??= { ids: [], since: clock.now() };
		this.#delivered.ids.push(id);
	}

	/** Records delivered callbacks in D1 (when `now`, or when they have waited long enough). */
	async #recordDelivered(now: boolean): Promise<void> {
		const delivered = this.#delivered;
		const name = this.#name;
		if (!delivered || !name || (!now && clock.now() < delivered.since + RECORD_AFTER_MS)) return;
		const ids = [...delivered.ids];
		await recordDelivered(await this.#db(name.appId), ids);
		this.recorded(ids);
	}

	/** Delivered callbacks that a write of the conversation can record in its own batch (`recordDeliveredSql`). */
	toRecord(): number[] {
		return this.#delivered ? [...this.#delivered.ids] : [];
	}

	/** These were recorded (by a write's batch, or by the drainer). */
	recorded(ids: number[]): void {
		if (!this.#delivered) return;
		const done = new Set(ids);
		const left = this.#delivered.ids.filter((id) => !done.has(id));
		this.#delivered = left.length > 0 ? { ids: left, since: this.#delivered.since } : null;
	}

	async #remember(name: ConversationName): Promise<void> {
		if (this.#name) return;
		this.#name = { appId: name.appId, conversationKey: name.conversationKey }; // callers may pass a larger object
		await this.#storage.put(NAME_KEY, this.#name);
	}

	/** The alarm that records what is about to be delivered also brings the object back if it goes away meanwhile. */
	async #armBackstop(): Promise<void> {
		await this.#alarmBy(clock.now() + RECORD_AFTER_MS);
	}

	/**
	 * Makes the alarm fire no later than `at`. An earlier alarm is kept: the
	 * alarm only ever looks at what is due, so coming early costs a look, and
	 * not moving it saves a storage write per callback. It is never deleted
	 * for the same reason.
	 */
	async #alarmBy(at: number): Promise<void> {
		if (this.#alarmAt === undefined) this.#alarmAt = await this.#storage.getAlarm();
		if (this.#alarmAt !== null && this.#alarmAt <= at) return;
		await this.#storage.setAlarm(at);
		this.#alarmAt = at;
	}
}
