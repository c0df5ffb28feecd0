import { DurableObject } from "cloudflare:workers";
import { clock } from "../clock";
import { appDatabase } from "../db/databases";
import { type MessageRow, visibleMessagesAfter } from "../db/messages";
import { setOnline } from "../db/presence";
import { ApiError, errorResponse } from "../http/envelope";
import { MAX_CHANNELS_PER_USER, MAX_CLIENT_FRAME_BYTES, MAX_RESUME_MESSAGES, RESUME_LOG_MS } from "../limits";
import { eventFor, type Happening, type RealtimeEvent } from "./events";

/** Who this object serves; kept in its storage (the object's name is not visible to it). */
type Owner = { appId: number; userId: number };

/** A frame, and the stored message it carries (0: none), so a resume's replay and live events do not repeat one. */
type Frame = { text: string; msgId: number };

/** The message ids sent to one device lately, in the order sent (see `#resumeFrom`). */
type SentLog = { at: number; id: number }[];

/**
 * One object per user (SPEC §6.3): it holds the user's open channels — every
 * device and tab — as hibernatable WebSockets, so idle channels cost nothing,
 * and `ping` is answered `pong` by the runtime without waking it. It keeps the
 * user's presence row (db/presence.ts) true: there while a channel is open.
 * Conversation objects push happenings here, each conversation in its commit
 * order; every channel gets every event.
 */
export class UserChannels extends DurableObject<Env> {
	/** Presence writes, one at a time, each writing the state at the moment it runs. */
	#presence: Promise<unknown> = Promise.resolve();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
	}

	/** A channel opens. The Worker has checked the credentials; the URL names the owner and the device. */
	override async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		const owner = { appId: Number(url.searchParams.get("app")), userId: Number(url.searchParams.get("user")) };
		const deviceSn = Number(url.searchParams.get("device_sn") ?? 0);
		if (this.ctx.getWebSockets().length >= MAX_CHANNELS_PER_USER) {
			return refuse(429, `A user may hold at most ${MAX_CHANNELS_PER_USER} realtime channels; close one first.`, "60");
		}
		this.ctx.storage.kv.put("owner", owner);
		this.#owner = owner;
		const since = url.searchParams.get("since");
		const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
		this.ctx.acceptWebSocket(server);
		server.serializeAttachment({ deviceSn });
		this.#remember(deviceSn, 0);
		// Live events wait behind the replay of what was missed.
		if (since !== null) this.#catchingUp.set(server, []);
		try {
			// The presence row exists before anything is read: every write committed after this pushes here.
			await this.#syncPresence();
			if (since !== null) {
				const missed = await this.#resumeFrom(owner, deviceSn, Number(since));
				this.#finishCatchUp(server, deviceSn, missed);
			}
		} catch (error) {
			this.#catchingUp.delete(server);
			server.close(1011, "unavailable");
			console.error(JSON.stringify({ at: "UserChannels.open", dependency: "D1", error: String(error) }));
			return refuse(503, "The realtime service is unavailable; retry.", "1");
		}
		return new Response(null, { status: 101, webSocket: client });
	}

	#owner: Owner | undefined;

	/** Who this object serves (kept in storage: it outlives a hibernation). */
	#ownerOf(): Owner | undefined {
		this.#owner ??= this.ctx.storage.kv.get<Owner>("owner");
		return this.#owner;
	}

	/** Channels replaying what they missed; their live frames wait here. */
	readonly #catchingUp = new Map<WebSocket, Frame[]>();

	/**
	 * What a device that saw up to `since` missed: every visible stored message
	 * with a larger id, and — because events of different conversations can
	 * overtake each other — those with a smaller id that were not sent to the
	 * device before `since` was (its sent log of the last RESUME_LOG_MS).
	 * Null: more than MAX_RESUME_MESSAGES (the client resyncs).
	 */
	async #resumeFrom(owner: Owner, deviceSn: number, since: number): Promise<MessageRow[] | null> {
		const log = this.#sentLog(deviceSn);
		const at = log.findIndex((e) => e.id === since);
		const received = new Set(at >= 0 ? log.slice(0, at + 1).map((e) => e.id) : []);
		// Replay from above `since`, or from the first message sent after `since` was (it may not have arrived).
		const after = at >= 0 ? Math.min(since, ...log.slice(at + 1).map((e) => e.id - 1)) : since;
		const rows = await visibleMessagesAfter(
			await appDatabase(this.env, owner.appId),
			owner.appId,
			owner.userId,
			after,
			MAX_RESUME_MESSAGES + received.size + 1,
		);
		const missed = rows.filter((m) => !received.has(m.id));
		return rows.length > MAX_RESUME_MESSAGES + received.size || missed.length > MAX_RESUME_MESSAGES ? null : missed;
	}

	/** Sends the replay, then the live frames that waited, leaving out a message already replayed. */
	#finishCatchUp(socket: WebSocket, deviceSn: number, missed: MessageRow[] | null): void {
		const owner = this.#ownerOf() as Owner;
		const waiting = this.#catchingUp.get(socket) ?? [];
		this.#catchingUp.delete(socket);
		const replayed = new Set((missed ?? []).map((m) => m.id));
		const frames: Frame[] =
			missed === null
				? [frameOf({ event: "resync", data: { reason: `more than ${MAX_RESUME_MESSAGES} messages were missed` } }, 0)]
				: missed.map((message) => frameOf(eventFor({ kind: "message", message, onlineOnly: false }, owner.userId), message.id));
		this.#log(deviceSn, frames); // (the live frames were logged as they came)
		frames.push(...waiting.filter((f) => f.msgId === 0 || !replayed.has(f.msgId)));
		this.#send(socket, frames);
	}

	/** Happenings of one conversation, in its commit order: each channel gets them as this user's events. */
	deliver(happenings: Happening[]): void {
		const owner = this.#ownerOf();
		const sockets = this.ctx.getWebSockets();
		if (owner) {
			const frames = happenings.map((h) => frameOf(eventFor(h, owner.userId), h.kind === "message" && !h.onlineOnly ? h.message.id : 0));
			for (const socket of sockets) {
				const waiting = this.#catchingUp.get(socket);
				if (waiting) waiting.push(...frames);
				else this.#send(socket, frames);
			}
			// Devices with a channel open now or lately log what they were sent (for their resume).
			for (const deviceSn of this.#recentDevices()) this.#log(deviceSn, frames);
		}
		if (!owner || sockets.length === 0) {
			// A presence row outlived its channels (e.g. the object restarted): correct it.
			void this.#syncPresence().catch(() => undefined);
		}
	}

	#send(socket: WebSocket, frames: Frame[]): void {
		try {
			for (const frame of frames) socket.send(frame.text);
		} catch {
			// A dead channel: drop it; the others are unaffected.
			socket.close(1011, "send failed");
		}
	}

	// ---- what each device was sent lately (for resume) ----------------------
	// In memory: a push is on the hot path of every message, and the log only
	// matters for a cut within seconds of a push — when the object is awake.
	// (Evicted, it was idle: nothing was in flight to overtake anything.)

	/** Per device: the message ids sent lately, oldest first. */
	readonly #sent = new Map<number, SentLog>();
	/** Per device: 0 while a channel is open, else when its last one closed. */
	readonly #devices = new Map<number, number>();

	#sentLog(deviceSn: number): SentLog {
		const cutoff = clock.now() - RESUME_LOG_MS;
		const log = this.#sent.get(deviceSn) ?? [];
		while (log.length > 0 && ((log[0] as { at: number }).at < cutoff || log.length > MAX_RESUME_MESSAGES)) log.shift();
		return log;
	}

	#log(deviceSn: number, frames: Frame[]): void {
		const now = clock.now();
		const log = this.#sentLog(deviceSn);
		for (const f of frames) if (f.msgId > 0) log.push({ at: now, id: f.msgId });
		this.#sent.set(deviceSn, log);
	}

	/** Notes a device's channel: open now (0), or closed at `closedAt`. */
	#remember(deviceSn: number, closedAt: number): void {
		this.#devices.set(deviceSn, closedAt);
	}

	/** Devices with a channel open (also after a hibernation), or closed within RESUME_LOG_MS (their pushes may have been cut). */
	#recentDevices(): number[] {
		const cutoff = clock.now() - RESUME_LOG_MS;
		// Woken from hibernation, memory is empty: the open channels say which devices are here (read once).
		if (this.#devices.size === 0) {
			for (const socket of this.ctx.getWebSockets())
				this.#devices.set((socket.deserializeAttachment() as { deviceSn: number }).deviceSn, 0);
		}
		return [...this.#devices].filter(([, closedAt]) => closedAt === 0 || closedAt >= cutoff).map(([sn]) => sn);
	}

	override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
		const size = typeof message === "string" ? message.length : message.byteLength;
		if (size > MAX_CLIENT_FRAME_BYTES) socket.close(1009, `frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes`);
		// Anything else a client sends is ignored ("ping" never reaches here: the runtime answers it).
	}

	override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
		const { deviceSn } = socket.deserializeAttachment() as { deviceSn: number };
		const stillOpen = this.ctx
			.getWebSockets()
			.some(
				(s) => s !== socket && s.readyState === WebSocket.OPEN && (s.deserializeAttachment() as { deviceSn: number }).deviceSn === deviceSn,
			);
		if (!stillOpen) this.#remember(deviceSn, clock.now());
		try {
			socket.close(code === 1005 ? 1000 : code, "closed");
		} catch {
			// already closed
		}
		await this.#syncPresence().catch((error) =>
			console.error(JSON.stringify({ at: "UserChannels.close", dependency: "D1", error: String(error) })),
		);
	}

	override async webSocketError(socket: WebSocket): Promise<void> {
		await this.webSocketClose(socket, 1011);
	}

	/** Writes whether this user has an open channel now; concurrent calls run in turn. */
	#syncPresence(): Promise<void> {
		const run = this.#presence.then(async () => {
			const owner = this.#ownerOf();
			if (!owner) return;
			const open = this.ctx.getWebSockets().some((s) => s.readyState === WebSocket.OPEN);
			await setOnline(await appDatabase(this.env, owner.appId), owner.appId, owner.userId, open, clock.now());
		});
		this.#presence = run.catch(() => undefined);
		return run;
	}
}

const frameOf = (event: RealtimeEvent, msgId: number): Frame => ({ text: JSON.stringify(event), msgId });

const refuse = (status: number, message: string, retryAfterS: string) =>
	errorResponse(new ApiError(status, message, null, { "retry-after": retryAfterS }));
