import { DurableObject } from "cloudflare:workers";
import { CallbackDrainer, type ConversationName } from "../callbacks/drainer";
import { clock } from "../clock";
import { NOTHING_OWED, type Owed, recordDeliveredSql } from "../db/callbacks";
import { type Database, describeError } from "../db/client";
import type { Permission } from "../db/conversationState";
import { appD1, appDatabase } from "../db/databases";
import { destroyGroup, joinGroup, type MembershipChange, removeFromGroup } from "../db/groups";
import { AppSession } from "../db/sessions";
import { MAX_QUEUED_WRITES } from "../limits";
import { Pusher } from "../realtime/push";
import { allowsPrivateCallbacks } from "../settings";
import { GroupFacts } from "./groupFacts";
import { type RelayInput, relay } from "./relay";
import { type Bookmarked, type Failure, failure, storeFailed } from "./results";
import { type SendInput, type SendResult, type SendRun, sendQueued } from "./send";
import { SerialQueue } from "./serialQueue";
import { type AckInput, ack, type DeleteInput, deleteFor, type EditInput, edit, type RecallInput, recall, type Written } from "./state";

/** What a caller hands over: the object takes the time itself. */
type Untimed<T> = Omit<T, "nowMs">;

/**
 * One object per conversation: the single writer of it. Every write runs
 * through one queue, so message ids commit in the order the object accepted
 * them and no write reads state another write is about to change.
 * It keeps nothing in memory that D1 does not also hold, so eviction loses
 * nothing (the queue is empty whenever the object is idle).
 *
 * It also delivers its conversation's message callbacks: a write hands the
 * callbacks it owes to the drainer (callbacks/drainer.ts), which sends them in
 * commit order after the write has answered; the object's alarm brings it
 * back for retries and after an eviction. The object, not a Queue, because it
 * keeps a conversation's order and is already where its writes commit
 * (a Queue would need its own ordering per conversation; docs/DESIGN.md, "Message callbacks' outbox").
 *
 * And it pushes each committed write's events to the users of the
 * conversation who are online (read in the write's own batch), after
 * answering and in commit order (realtime/push.ts, docs/API.md "Real-time delivery"); online_only
 * sends pass through it too (relay.ts), so they keep their place.
 */
/** At most this many queued sends per D1 batch (each is 3-4 statements). */
const MAX_GROUP_COMMIT = 25;

/** What waits in the object is bounded: beyond the cap, the caller retries (docs/API.md). */
const busy = () => failure(503, "The conversation is busy; retry the request.");

export class Conversation extends DurableObject<Env> {
	readonly #writes = new SerialQueue();
	readonly #callbacks = new CallbackDrainer(this.ctx.storage, (appId) => appDatabase(this.env, appId), allowsPrivateCallbacks(this.env));
	readonly #pusher = new Pusher(this.env);
	/** For a group's object: what it knows of the group's membership (groupFacts.ts). */
	readonly #group = new GroupFacts();

	/** The newest message timestamp this object gave or saw: the next never goes below it (docs/API.md). */
	#lastStamp = 0;

	/** The timestamp of the messages about to be written: taken in queue order, never earlier than the one before. */
	#stamp(): number {
		this.#lastStamp = Math.max(clock.now(), this.#lastStamp);
		return this.#lastStamp;
	}

	/** Sends waiting here go to D1 together when the queue reaches them (group commit). */
	readonly #waiting: { input: SendInput; done: (result: Bookmarked<SendResult>) => void }[] = [];

	/**
	 * A session on the app's database for one write (from the primary, where
	 * writes go): its bookmark, returned with the answer, lets the caller's
	 * client read the write from a replica (src/db/sessions.ts).
	 */
	async #session(appId: number): Promise<AppSession> {
		return new AppSession(await appD1(this.env, appId), null);
	}

	send(input: SendInput): Promise<Bookmarked<SendResult>> {
		if (this.#waiting.length >= MAX_QUEUED_WRITES) return Promise.resolve(busy());
		return new Promise((done) => {
			this.#waiting.push({ input, done });
			if (this.#waiting.length === 1) void this.#writes.run(() => this.#sendWaiting());
		});
	}

	async #sendWaiting(): Promise<void> {
		const taken = this.#waiting.splice(0, MAX_GROUP_COMMIT);
		if (this.#waiting.length > 0) void this.#writes.run(() => this.#sendWaiting());
		const requestId = taken[0]?.input.requestId ?? "";
		// Stamped here, where their order is decided (the SQL keeps a cold object from going below D1's newest).
		const timestamp = this.#stamp();
		for (const t of taken) t.input.message.timestamp = timestamp;
		let results: Bookmarked<SendResult>[];
		let written: SendRun | null = null;
		const appId = taken[0]?.input.message.appId ?? 0;
		try {
			// Callbacks delivered since the last write are recorded in this batch, at no extra round trip.
			const toRecord = this.#callbacks.toRecord();
			const session = await this.#session(appId);
			const sent = await sendQueued(
				session.db,
				taken.map((t) => t.input),
				toRecord.length > 0 ? [recordDeliveredSql(toRecord)] : [],
				this.#group,
			);
			if (sent.alongsideCommitted) this.#callbacks.recorded(toRecord);
			this.#lastStamp = Math.max(this.#lastStamp, ...sent.written.map((m) => m.timestamp));
			const bookmark = session.bookmark();
			results = sent.results.map((result) => ({ ...result, bookmark }));
			const first = taken[0]?.input.message;
			if (first) await this.#owe(first, sent.owed, requestId);
			written = sent;
		} catch (error) {
			// Nothing committed: sendQueued answers each send itself once any of them may have.
			results = taken.map(() => storeFailed(requestId, "Conversation.send", error));
		}
		for (const [i, t] of taken.entries()) t.done(results[i] as SendResult);
		// After the answers: to the devices online in the conversation (docs/API.md "Real-time delivery").
		if (written) {
			this.#pusher.push(
				appId,
				written.online,
				written.written.map((message) => ({ kind: "message", message, onlineOnly: false })),
			);
		}
	}

	/**
	 * Hands what a committed write owes to the drainer. Its failure (object
	 * storage) must not turn a committed write into an error: the rows are in
	 * D1, and the scheduled sweep delivers them.
	 */
	async #owe(name: ConversationName, owed: Owed, requestId: string): Promise<void> {
		try {
			await this.#callbacks.owe(name, owed);
		} catch (error) {
			console.error(JSON.stringify({ requestId, at: "Conversation.owe", error: describeError(error) }));
		}
	}

	edit(input: Untimed<EditInput> & { requestId: string }) {
		return this.#serially("edit", input, (db) => edit(db, { ...input, nowMs: clock.now() }), input);
	}

	ack(input: Untimed<AckInput> & { requestId: string }) {
		return this.#serially("ack", input, (db) => ack(db, { ...input, nowMs: clock.now() }), input);
	}

	/** The recall window is measured on the object's clock, the one that stamped the message. */
	recall(input: Omit<Untimed<RecallInput>, "permission"> & { permission: Omit<Permission, "notBefore"> }) {
		return this.#serially(
			"recall",
			input,
			(db) => {
				const nowMs = clock.now();
				return recall(db, { ...input, nowMs, permission: { ...input.permission, notBefore: nowMs - input.recallWindowS * 1000 } });
			},
			input,
		);
	}

	/** An online_only message or operation: to the open channels only, in its place among the conversation's events. */
	relay(input: RelayInput) {
		const { appId, conversationKey } = input.message;
		return this.#serially(
			"relay",
			{ appId, requestId: input.requestId },
			async (db) => ({ ...(await relay(db, input, clock.now())), owed: NOTHING_OWED }),
			{
				appId,
				conversationKey,
			},
		);
	}

	deleteFor(input: DeleteInput & { requestId: string }) {
		return this.#serially("deleteFor", input, (db) => deleteFor(db, input), input);
	}

	join(input: { appId: number; groupId: number; userIds: number[]; nowMs: number; requestId: string }) {
		return this.#membership("join", input, async (db) => {
			const change = await joinGroup(db, input.appId, input.groupId, input.userIds, input.nowMs);
			this.#group.joined(change.changed);
			return change;
		});
	}

	remove(input: { appId: number; groupId: number; userIds: number[]; requestId: string }) {
		return this.#membership("remove", input, async (db) => {
			const change = await removeFromGroup(db, input.appId, input.groupId, input.userIds);
			this.#group.removed(change.changed);
			return change;
		});
	}

	destroy(input: { appId: number; groupId: number; requestId: string }) {
		return this.#membership("destroy", input, async (db) => {
			await destroyGroup(db, input.appId, input.groupId);
			this.#group.destroyed();
			return { live: true, changed: [] };
		});
	}

	/**
	 * Membership changes run in the queue too, so a send cannot pass a concurrent
	 * kick; who joined or left is what the write itself did (docs/API.md).
	 */
	#membership(
		at: string,
		input: { appId: number; groupId: number; requestId: string },
		write: (db: Database) => Promise<MembershipChange>,
	) {
		return this.#serially(at, input, async (db) => {
			let change: MembershipChange;
			try {
				change = await write(db);
			} catch (error) {
				this.#group.forget(); // it may have committed
				throw error;
			}
			const { live, changed } = change;
			if (!live) this.#group.forget();
			const answer = live ? { ok: true as const, changed } : failure(404, `Group ${input.groupId} does not exist.`);
			return { answer, owed: NOTHING_OWED };
		});
	}

	/** One write in the queue; `where` set: it may owe callbacks and push events. */
	#serially<T extends object>(
		at: string,
		{ appId, requestId }: { appId: number; requestId: string },
		task: (db: Database) => Promise<Written<T>>,
		where?: ConversationName,
	): Promise<Bookmarked<T> | Failure> {
		if (this.#writes.size >= MAX_QUEUED_WRITES) return Promise.resolve(busy());
		return this.#writes.run(async () => {
			try {
				const session = await this.#session(appId);
				const written = await task(session.db);
				if (written.recalled !== undefined) this.#callbacks.recalled(written.recalled);
				if (where) await this.#owe(where, written.owed, requestId);
				if (where && written.push) this.#pusher.push(where.appId, written.push.online, written.push.happenings);
				return { ...written.answer, bookmark: session.bookmark() };
			} catch (error) {
				return storeFailed(requestId, `Conversation.${at}`, error);
			}
		});
	}

	// ---- message callbacks ------------------------------------------------

	/** What is owed changed outside the object (redelivery, the scheduled sweep): deliver it. */
	async deliverCallbacks(name: ConversationName): Promise<void> {
		await this.#callbacks.wake(name);
	}

	override async alarm(): Promise<void> {
		await this.#callbacks.onAlarm();
	}
}
