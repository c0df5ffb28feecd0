// Chat: one user's conversations as the service holds them, kept up to date
// over the live channel (GET /realtime). It owns what apps get wrong when
// they do it themselves:
// - reconnecting with backoff and jitter, and always resuming with `since` =
//   the largest message id seen anywhere (live, history or the unread list);
// - dropping what arrives twice (a resume may replay a message that overtook
//   the cut);
// - after every reconnect (and on `resync`), reading the list and the
//   conversations it holds again, so read receipts, recalls and edits made
//   while it was away are right;
// - a channel closed because its credentials ended (4001 token expired, 4003
//   credentials revoked): asking the app for fresh ones, then resuming.
import { backoffMs, ResumePoint } from "./backoff.js";
import type { ImClient } from "./client.js";
import { ImError } from "./errors.js";
import type { paths } from "./generated/schema.js";
import type { AnswerOf } from "./types.js";

/** A message as history answers it. */
export type Message = AnswerOf<paths["/message/conversation"]["get"]>["data"]["messages"][number];
/** An entry of the conversation list (the unread list). */
export type Entry = AnswerOf<paths["/message/unread"]["get"]>["data"][number];
/** The live channel: connecting, live, offline (waiting to reconnect), or stopped. */
export type ConnectionState = "connecting" | "live" | "offline" | "stopped";

/** What a Chat tells the app. */
export type ChatEvents = {
	/** The live channel's state changed. */
	state: ConnectionState;
	/** A new message in one of the user's conversations (online_only ones too: `onlineOnly`, msg_id 0, not held). */
	message: { conversationId: number; message: Message; onlineOnly: boolean };
	/** A held conversation's messages changed (a message, an edit, a recall, a read receipt, a reload). */
	changed: { conversationId: number };
	/** The conversation list changed. */
	conversations: Entry[];
	/** Something done in the background failed (a reload after a reconnect): the next reconnect tries again. */
	error: ImError;
};

type Listener<K extends keyof ChatEvents> = (value: ChatEvents[K]) => void;

/** What the channel sends (docs/API.md, "Real-time delivery"). */
type ServerEvent =
	| { event: "message"; data: Message & { conversation_id: number; online_only: boolean } }
	| { event: "append"; data: { conversation_id: number; msg_id: number; content: string; online_only: boolean } }
	| { event: "update"; data: { conversation_id: number; message: Message } }
	| { event: "read"; data: { conversation_id: number; user_id: number; msg_id: number; device_sn: number } }
	| { event: "conversation_deleted"; data: { conversation_id: number } }
	| { event: "resync"; data: { reason: string } };

/** The WebSocket of the platform (browsers, Node ≥ 22, Workers), or one passed in (Node 20: the `ws` package). */
export type WebSocketLike = {
	readyState: number;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	addEventListener(type: "open" | "message" | "close" | "error", listener: (event: { data?: unknown; code?: number }) => void): void;
};
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type ChatOptions = {
	/** The user this chat is for (their token is the client's). */
	userId: number;
	/** Asked when the channel closes because its credentials ended: answer a fresh token. */
	credentials?: () => Promise<string>;
	/** The device this channel is (default: the token's). */
	deviceSn?: number;
	WebSocket?: WebSocketConstructor;
	/** Reconnect delays: doubling from baseMs up to maxMs, with jitter. */
	backoff?: { baseMs?: number; maxMs?: number };
	/** How often to ping the channel (ms); one silent for two pings is taken for dead and reopened. */
	pingMs?: number;
	/** How long an opening may take before it counts as failed (ms). */
	connectTimeoutMs?: number;
	/** History page size. */
	pageSize?: number;
};

/**
 * A conversation the chat holds: its messages by id, and how far back they go.
 * `changedAt` is when (#version) an event or an action last changed each
 * message, so that a re-read in flight meanwhile does not overwrite it with its
 * older snapshot (#reload); `readsApplied` the newest re-read applied, so that
 * an older one finishing later is dropped.
 */
type Held = {
	type: 1 | 2;
	messages: Map<number, Message>;
	changedAt: Map<number, number>;
	nextOlder: number;
	complete: boolean;
	readsStarted: number;
	readsApplied: number;
};

const OPEN = 1;

export class Chat {
	readonly #im: ImClient;
	readonly #options: ChatOptions;
	readonly #resume = new ResumePoint();
	readonly #held = new Map<number, Held>();
	#list: Entry[] = [];
	/** Per conversation, the newest message id the user is known to have read (own reads and sends). */
	readonly #readUpTo = new Map<number, number>();
	/** The same for the list: when an event last changed each entry (or removed it), and which re-read applies. */
	readonly #entryChangedAt = new Map<number, number>();
	#listReadsStarted = 0;
	#listReadsApplied = 0;
	/** Counts changes made by events and actions (see Held). */
	#version = 0;
	readonly #listeners = new Map<keyof ChatEvents, Set<Listener<never>>>();
	#socket: WebSocketLike | null = null;
	#state: ConnectionState = "stopped";
	#attempt = 0;
	#wasLive = false;
	#stopped = true;
	#timer: ReturnType<typeof setTimeout> | null = null;
	#ping: ReturnType<typeof setInterval> | null = null;

	constructor(im: ImClient, options: ChatOptions) {
		this.#im = im;
		this.#options = options;
	}

	get userId(): number {
		return this.#options.userId;
	}

	get state(): ConnectionState {
		return this.#state;
	}

	/** Where the next (re)connection resumes. */
	get since(): number {
		return this.#resume.since;
	}

	on<K extends keyof ChatEvents>(event: K, listener: Listener<K>): () => void {
		let set = this.#listeners.get(event);
		if (!set) {
			set = new Set();
			this.#listeners.set(event, set);
		}
		set.add(listener as Listener<never>);
		return () => set.delete(listener as Listener<never>);
	}

	#emit<K extends keyof ChatEvents>(event: K, value: ChatEvents[K]): void {
		for (const listener of this.#listeners.get(event) ?? []) (listener as Listener<K>)(value);
	}

	// ---- what the chat holds ----------------------------------------------

	/** The conversation list, most recent first. */
	conversations(): Entry[] {
		return [...this.#list];
	}

	/** The messages held of a conversation, oldest first. */
	messages(conversationId: number): Message[] {
		return [...(this.#held.get(conversationId)?.messages.values() ?? [])].sort((a, b) => a.msg_id - b.msg_id);
	}

	/** Whether older messages of a held conversation remain to be loaded. */
	hasOlder(conversationId: number): boolean {
		const held = this.#held.get(conversationId);
		return held !== undefined && !held.complete;
	}

	/** Reads the conversation list (every page). */
	async loadConversations(): Promise<Entry[]> {
		const started = this.#version;
		const ticket = ++this.#listReadsStarted;
		const list: Entry[] = [];
		for (let cursor = ""; ; ) {
			const page = await this.#im.getMessageUnread({ query: { limit: 500, ...(cursor ? { cursor } : {}) } });
			list.push(...page.data);
			cursor = page.cursor;
			if (!cursor) break;
		}
		for (const entry of list) this.#resume.seen(entry.last_msg_id);
		if (ticket < this.#listReadsApplied) return this.conversations(); // a newer read was applied already
		this.#listReadsApplied = ticket;
		for (const entry of list) if (entry.num === 0) this.#readTo(entry.conversation_id.uid, entry.last_msg_id);
		// An entry an event changed while the pages were read: its newer messages win; at the
		// same last message, the lower count (only reads lower it).
		const fresh = new Map(list.map((entry) => [entry.conversation_id.uid, entry]));
		for (const [uid, at] of this.#entryChangedAt) {
			if (at <= started) continue;
			const current = this.#list.find((x) => x.conversation_id.uid === uid);
			const read = fresh.get(uid);
			if (!current) fresh.delete(uid);
			else if (!read || current.last_msg_id > read.last_msg_id) fresh.set(uid, current);
			else if (current.last_msg_id === read.last_msg_id && current.num < read.num) fresh.set(uid, current);
		}
		this.#list = [...fresh.values()].sort((a, b) => b.last_msg_id - a.last_msg_id);
		this.#emit("conversations", this.conversations());
		return this.conversations();
	}

	/** Opens a conversation: its newest page of history (which delivers it). `type`: 1 a user, 2 a group. */
	async open(conversationId: number, type: 1 | 2): Promise<Message[]> {
		const page = await this.#page(conversationId, 0);
		const held: Held = {
			type,
			messages: new Map(),
			changedAt: new Map(),
			nextOlder: page.next_msg_id,
			complete: page.is_last,
			readsStarted: 0,
			readsApplied: 0,
		};
		for (const m of page.messages) held.messages.set(m.msg_id, m);
		this.#held.set(conversationId, held);
		this.#emit("changed", { conversationId });
		return this.messages(conversationId);
	}

	/** Loads the next older page of a held conversation; answers whether there are more. */
	async loadOlder(conversationId: number): Promise<boolean> {
		const held = this.#held.get(conversationId);
		if (!held || held.complete) return false;
		const page = await this.#page(conversationId, held.nextOlder);
		for (const m of page.messages) if (!held.messages.has(m.msg_id)) held.messages.set(m.msg_id, m);
		held.nextOlder = page.next_msg_id;
		held.complete = page.is_last;
		this.#emit("changed", { conversationId });
		return !held.complete;
	}

	/** Forgets a held conversation (the app closed it): it is not read again after reconnects. */
	close(conversationId: number): void {
		this.#held.delete(conversationId);
	}

	async #page(conversationId: number, start: number) {
		const page = (
			await this.#im.getMessageConversation({
				query: { opposite_id: conversationId, limit: this.#options.pageSize ?? 50, ...(start ? { msg_id_start: start } : {}) },
			})
		).data;
		for (const m of page.messages) this.#resume.seen(m.msg_id);
		return page;
	}

	/** Reads a held conversation again, as far back as it is held (statuses, recalls and edits made meanwhile). */
	async #reload(conversationId: number): Promise<void> {
		const held = this.#held.get(conversationId);
		if (!held) return;
		const oldest = Math.min(...held.messages.keys());
		const started = this.#version;
		const ticket = ++held.readsStarted;
		const fresh = new Map<number, Message>();
		let page = await this.#page(conversationId, 0);
		for (;;) {
			for (const m of page.messages) fresh.set(m.msg_id, m);
			if (page.is_last || page.messages.some((m) => m.msg_id <= oldest)) break;
			page = await this.#page(conversationId, page.next_msg_id);
		}
		// Closed meanwhile, or a newer read was applied already.
		if (this.#held.get(conversationId) !== held || ticket < held.readsApplied) return;
		held.readsApplied = ticket;
		// What events changed while the pages were read is newer than them, except that
		// READ and a recall, once the pages show them, stay (a replayed event may predate them).
		for (const [id, at] of held.changedAt) {
			const m = held.messages.get(id);
			if (at <= started || !m) continue;
			const read = fresh.get(id);
			if (!read) fresh.set(id, m);
			else if (!read.recalled) fresh.set(id, { ...m, status: read.status === "READ" ? "READ" : m.status });
		}
		held.messages = fresh;
		held.nextOlder = page.next_msg_id;
		held.complete = page.is_last;
		this.#emit("changed", { conversationId });
	}

	/** The list and every held conversation, read again (after a reconnect, or a resync). */
	async #reloadAll(): Promise<void> {
		try {
			await this.loadConversations();
			for (const conversationId of [...this.#held.keys()]) await this.#reload(conversationId);
		} catch (error) {
			this.#emit("error", error instanceof ImError ? error : new ImError(0, String(error), null));
		}
	}

	// ---- acting on it ---------------------------------------------------------

	/** Sends a text; answers its msg_id. It shows in the conversation at once, and as the service has it when its event arrives. */
	async send(conversationId: number, type: 1 | 2, content: string, extra: { transaction_id?: number } = {}): Promise<number> {
		const answer = await this.#im.postMessageSend({ body: { type, targets: [conversationId], content_type: 0, content, ...extra } });
		const msgId = answer.msg_ids[0] ?? 0;
		const held = this.#held.get(conversationId);
		if (held && msgId > 0 && !held.messages.has(msgId)) {
			this.#put(held, {
				msg_id: msgId,
				type: type === 1 ? "CHAT" : "GROUPCHAT",
				ctype: "TEXT",
				content,
				attachment: "",
				config: "",
				ext: "",
				timestamp: Date.now(),
				status: type === 1 ? "UNREAD" : "DELIVERED",
				from_xid: { uid: this.userId, device_sn: this.#options.deviceSn ?? 0 },
				to_xid: { uid: conversationId, device_sn: 0 },
				recalled: false,
				is_system: false,
			});
			this.#emit("changed", { conversationId });
		}
		return msgId;
	}

	/** Marks a conversation read up to its newest message. */
	async markRead(conversationId: number): Promise<void> {
		await this.#im.getMessageAck({ query: { conversation_id: conversationId } });
		const held = this.#held.get(conversationId);
		if (held) {
			this.#markRead(held, (m) => m.from_xid.uid !== this.userId);
			this.#emit("changed", { conversationId });
		}
		this.#zeroCount(conversationId);
	}

	/** Recalls one of the user's messages. */
	async recall(conversationId: number, msgId: number): Promise<void> {
		await this.#im.postMessageRecall({ body: { conversation_id: conversationId, msg_id: msgId } });
		const held = this.#held.get(conversationId);
		const m = held?.messages.get(msgId);
		if (held && m) {
			this.#put(held, { ...m, recalled: true, content: "", attachment: "", config: "", ext: "" });
			this.#emit("changed", { conversationId });
		}
	}

	// ---- the live channel -----------------------------------------------------

	/** Opens the live channel (and keeps it open until `stop`). */
	start(): void {
		if (!this.#stopped) return;
		this.#stopped = false;
		this.#connect();
	}

	stop(): void {
		this.#stopped = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		this.#socket?.close(1000, "stopped");
		this.#socket = null;
		this.#setState("stopped");
	}

	#setState(state: ConnectionState): void {
		if (this.#state === state) return;
		this.#state = state;
		this.#emit("state", state);
	}

	#url(): string {
		const url = new URL("/realtime", this.#im.baseUrl);
		url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
		url.searchParams.set("app_id", this.#im.appId);
		url.searchParams.set("access_token", this.#im.token ?? "");
		if (this.#options.deviceSn !== undefined) url.searchParams.set("device_sn", String(this.#options.deviceSn));
		// Resume from the largest id seen anywhere; after a first connection, also from 0 (replay what there is).
		if (this.#resume.since > 0 || this.#wasLive) url.searchParams.set("since", String(this.#resume.since));
		return url.toString();
	}

	#connect(): void {
		if (this.#stopped) return;
		this.#setState("connecting");
		const Socket = this.#options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
		if (!Socket) throw new Error("No WebSocket here: pass one as options.WebSocket (e.g. the ws package on Node 20).");
		const socket = new Socket(this.#url());
		this.#socket = socket;
		let opened = false;
		let lastHeard = Date.now();
		const pingMs = this.#options.pingMs ?? 30_000;
		/** The channel is given up (closed, or never opened, or silent): what comes next depends on why. */
		const lost = (code: number) => {
			if (this.#socket !== socket) return;
			this.#socket = null;
			clearTimeout(openTimeout);
			if (this.#ping) clearInterval(this.#ping);
			if (this.#stopped) return;
			this.#setState("offline");
			void this.#afterClose(code, opened);
		};
		const openTimeout = setTimeout(() => {
			if (opened) return;
			lost(1006);
			socket.close();
		}, this.#options.connectTimeoutMs ?? 10_000);
		socket.addEventListener("open", () => {
			if (this.#socket !== socket) return;
			opened = true;
			clearTimeout(openTimeout);
			this.#attempt = 0;
			this.#setState("live");
			const reconnected = this.#wasLive;
			this.#wasLive = true;
			if (reconnected) void this.#reloadAll();
			this.#ping = setInterval(() => {
				if (Date.now() - lastHeard > 2 * pingMs) {
					lost(1006); // a half-open connection: nothing heard for two pings
					socket.close();
				} else if (socket.readyState === OPEN) socket.send("ping");
			}, pingMs);
		});
		socket.addEventListener("message", (event) => {
			if (this.#socket !== socket) return;
			lastHeard = Date.now();
			if (typeof event.data !== "string" || event.data === "pong") return;
			this.#onEvent(JSON.parse(event.data) as ServerEvent);
		});
		socket.addEventListener("close", (event) => lost(event.code ?? 1006));
	}

	/** Why the channel closed decides what comes next: fresh credentials, or a wait. */
	async #afterClose(code: number, opened: boolean): Promise<void> {
		let credentialsEnded = code === 4001 || code === 4003;
		if (!credentialsEnded && !opened) {
			// Refused before opening: perhaps the token (the service answers 401, which a WebSocket does not show).
			try {
				await this.#im.getMessageUnread({ query: { limit: 1 } });
			} catch (error) {
				credentialsEnded = error instanceof ImError && error.code === 401;
			}
		}
		if (credentialsEnded && this.#options.credentials) {
			try {
				this.#im.setToken(await this.#options.credentials());
				this.#connect();
				return;
			} catch {
				// no fresh credentials yet: wait as after any failure
			}
		}
		const delay = backoffMs(this.#attempt++, Math.random(), this.#options.backoff);
		this.#timer = setTimeout(() => this.#connect(), delay);
	}

	#onEvent(e: ServerEvent): void {
		switch (e.event) {
			case "message": {
				const { conversation_id: conversationId, online_only: onlineOnly, ...message } = e.data;
				if (!onlineOnly) this.#store(conversationId, message);
				this.#emit("message", { conversationId, message, onlineOnly });
				break;
			}
			case "append": {
				const held = this.#held.get(e.data.conversation_id);
				const m = held?.messages.get(e.data.msg_id);
				if (held && m) {
					this.#put(held, { ...m, content: m.content + e.data.content });
					this.#emit("changed", { conversationId: e.data.conversation_id });
				}
				break;
			}
			case "update": {
				const held = this.#held.get(e.data.conversation_id);
				const before = held?.messages.get(e.data.message.msg_id);
				if (held && before) {
					this.#put(held, { ...e.data.message, status: before.status });
					this.#emit("changed", { conversationId: e.data.conversation_id });
				}
				break;
			}
			case "read":
				this.#onRead(e.data.conversation_id, e.data.user_id, e.data.msg_id);
				break;
			case "conversation_deleted":
				this.#held.delete(e.data.conversation_id);
				this.#list = this.#list.filter((entry) => entry.conversation_id.uid !== e.data.conversation_id);
				this.#entryChangedAt.set(e.data.conversation_id, ++this.#version);
				this.#emit("changed", { conversationId: e.data.conversation_id });
				this.#emit("conversations", this.conversations());
				break;
			case "resync":
				void this.#reloadAll();
				break;
		}
	}

	/** A stored message: held (once), and its conversation's list entry moved to the top. */
	#store(conversationId: number, arrived: Message): void {
		this.#resume.seen(arrived.msg_id);
		const held = this.#held.get(conversationId);
		const known = held?.messages.get(arrived.msg_id);
		const mine = arrived.from_xid.uid === this.userId;
		if (mine) this.#readTo(conversationId, arrived.msg_id);
		// Read already (on another device, before this event came): not unread, and shown READ.
		const readAlready = !mine && arrived.msg_id <= (this.#readUpTo.get(conversationId) ?? 0);
		const message: Message = readAlready ? { ...arrived, status: "READ" } : arrived;
		if (held) {
			this.#put(held, known ? { ...message, status: known.status === "READ" ? "READ" : message.status } : message);
			// Sending implies having read: whoever sent it has read everything before it (docs/API.md, "Message status").
			this.#markRead(
				held,
				(m) => m.msg_id < message.msg_id && (mine ? m.from_xid.uid !== this.userId : m.from_xid.uid === this.userId && held.type === 1),
			);
			this.#emit("changed", { conversationId });
		}
		const entry = this.#list.find((x) => x.conversation_id.uid === conversationId);
		if (entry && message.msg_id <= entry.last_msg_id) return; // already counted (a replay)
		const updated: Entry = {
			conversation_id: { uid: conversationId, device_sn: 0 },
			num: mine ? 0 : (entry?.num ?? 0) + (readAlready ? 0 : 1),
			type: message.type === "GROUPCHAT" ? 2 : 1,
			last_msg_id: message.msg_id,
			last_timestamp: message.timestamp,
		};
		this.#list = [updated, ...this.#list.filter((x) => x !== entry)];
		this.#entryChangedAt.set(conversationId, ++this.#version);
		this.#emit("conversations", this.conversations());
	}

	/** A read position moved: the peer's (my messages up to msg_id are READ), or mine on another device. */
	#onRead(conversationId: number, userId: number, msgId: number): void {
		const held = this.#held.get(conversationId);
		if (userId !== this.userId) {
			if (held && held.type === 1) {
				this.#markRead(held, (m) => m.from_xid.uid === this.userId && m.msg_id <= msgId);
				this.#emit("changed", { conversationId });
			}
			return;
		}
		this.#readTo(conversationId, msgId);
		if (held) {
			this.#markRead(held, (m) => m.from_xid.uid !== this.userId && m.msg_id <= msgId);
			this.#emit("changed", { conversationId });
		}
		// My unread count there: none when read up to its newest message, else the list knows it.
		const entry = this.#list.find((x) => x.conversation_id.uid === conversationId);
		if (entry && msgId >= entry.last_msg_id) this.#zeroCount(conversationId);
		else
			void this.loadConversations().catch((error: unknown) =>
				this.#emit("error", error instanceof ImError ? error : new ImError(0, String(error), null)),
			);
	}

	#readTo(conversationId: number, msgId: number): void {
		if (msgId > (this.#readUpTo.get(conversationId) ?? 0)) this.#readUpTo.set(conversationId, msgId);
	}

	/** A message changed by an event or an action (see Held). */
	#put(held: Held, m: Message): void {
		held.messages.set(m.msg_id, m);
		held.changedAt.set(m.msg_id, ++this.#version);
	}

	/** Marks READ the held messages `which` selects. */
	#markRead(held: Held, which: (m: Message) => boolean): void {
		for (const m of held.messages.values()) if (m.status !== "READ" && which(m)) this.#put(held, { ...m, status: "READ" });
	}

	/** A conversation read to its end: its list entry counts nothing. */
	#zeroCount(conversationId: number): void {
		const entry = this.#list.find((x) => x.conversation_id.uid === conversationId);
		if (!entry || entry.num === 0) return;
		this.#list = this.#list.map((x) => (x === entry ? { ...entry, num: 0 } : x));
		this.#entryChangedAt.set(conversationId, ++this.#version);
		this.#emit("conversations", this.conversations());
	}
}
