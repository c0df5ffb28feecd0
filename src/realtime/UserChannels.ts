import { DurableObject } from "cloudflare:workers";
import { clock } from "../clock";
import { adminTokenHashOf } from "../db/apps";
import { appDatabase } from "../db/databases";
import { type MessageRow, visibleMessagesAfter } from "../db/messages";
import { setOnline } from "../db/presence";
import { ApiError, errorResponse } from "../http/envelope";
import {
	ADMIN_CHANNEL_RECHECK_MS,
	CLIENT_FRAME_WINDOW_MS,
	MAX_CHANNELS_PER_USER,
	MAX_CLIENT_FRAME_BYTES,
	MAX_CLIENT_FRAMES_PER_WINDOW,
	MAX_RESUME_MESSAGES,
	RESUME_LOG_MS,
} from "../limits";
import { eventFor, type Happening, type RealtimeEvent } from "./events";

/** Who this object serves; kept in its storage (the object's name is not visible to it). */
type Owner = { appId: number; userId: number };

/** What a channel carries across hibernation (its attachment). */
type ChannelState = {
	deviceSn: number;
	/** Opened with a user token: when it expires (ms). Null: opened with the admin token. */
	expiresAt: number | null;
	/** Opened with the admin token: its hash then. Null: a user token. */
	adminTokenHash: string | null;
	/** The client's frames in the current window: when it opened, and how many (pings never count). */
	frames: { since: number; count: number };
};

const stateOf = (socket: WebSocket) => socket.deserializeAttachment() as ChannelState;

/** Close codes of a channel whose credentials ended (docs/API.md, "Real-time delivery"). */
const TOKEN_EXPIRED = { code: 4001, reason: "token expired" } as const;
const CREDENTIALS_REVOKED = { code: 4003, reason: "credentials revoked" } as const;
/** After a failed credentials check (D1), try again this soon. */
const RECHECK_AFTER_FAILURE_MS = 5_000;

/** A frame, and the stored message it carries (0: none), so a resume's replay and live events do not repeat one. */
type Frame = { text: string; msgId: number };

/** The message ids sent to one device lately, in the order sent (see `#resumeFrom`). */
type SentLog = { at: number; id: number }[];

/**
 * One object per user (docs/API.md "Real-time delivery"): it holds the user's open channels — every
 * device and tab — as hibernatable WebSockets, so idle channels cost nothing,
 * and `ping` is answered `pong` by the runtime without waking it. It keeps the
 * user's presence row (db/presence.ts) true: there while a channel is open.
 * Conversation objects push happenings here, each conversation in its commit
 * order; every channel gets every event.
 *
 * A channel lives no longer than its credentials: one opened with a user
 * token is closed when the token expires (nothing is sent to it after), one
 * opened with the admin token is closed within a minute of the token's
 * rotation. The object's alarm does both (it wakes only for channels that
 * need it: at a token's expiry, and every ADMIN_CHANNEL_RECHECK_MS while an
 * admin-opened channel is open, one D1 read each time).
 */
export class UserChannels extends DurableObject<Env> {
	/** Presence writes, one at a time, each writing the state at the moment it runs. */
	#presence: Promise<unknown> = Promise.resolve();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
	}

	/** A channel opens. The Worker has checked the credentials; the URL names the owner, the device and the credentials. */
	override async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		const owner = { appId: Number(url.searchParams.get("app")), userId: Number(url.searchParams.get("user")) };
		const deviceSn = Number(url.searchParams.get("device_sn") ?? 0);
		const expires = url.searchParams.get("expires");
		if (this.ctx.getWebSockets().length >= MAX_CHANNELS_PER_USER) {
			return refuse(429, `A user may hold at most ${MAX_CHANNELS_PER_USER} realtime channels; close one first.`, "60");
		}
		this.ctx.storage.kv.put("owner", owner);
		this.#owner = owner;
		const since = url.searchParams.get("since");
		const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
		this.ctx.acceptWebSocket(server);
		const state: ChannelState = {
			deviceSn,
			expiresAt: expires === null ? null : Number(expires),
			adminTokenHash: url.searchParams.get("admin"),
			frames: { since: 0, count: 0 },
		};
		server.serializeAttachment(state);
		this.#remember(deviceSn, 0);
		// Live events wait behind the replay of what was missed.
		if (since !== null) this.#catchingUp.set(server, []);
		try {
			await this.#armCredentialsCheck();
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
		const sockets = this.#withLiveCredentials();
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

	/** The user was disabled or deleted (docs/API.md, "Moderation"): every channel ends as when credentials are revoked (4003). */
	endAll(): number {
		const open = this.ctx.getWebSockets().filter((s) => s.readyState === WebSocket.OPEN);
		for (const socket of open) this.#end(socket, CREDENTIALS_REVOKED);
		return open.length;
	}

	/** The open channels whose token has not expired; one that has is closed here, before anything more is sent to it. */
	#withLiveCredentials(): WebSocket[] {
		const now = clock.now();
		return this.ctx.getWebSockets().filter((socket) => {
			const { expiresAt } = stateOf(socket);
			if (expiresAt === null || expiresAt > now) return true;
			this.#end(socket, TOKEN_EXPIRED);
			return false;
		});
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
			for (const socket of this.ctx.getWebSockets()) this.#devices.set(stateOf(socket).deviceSn, 0);
		}
		return [...this.#devices].filter(([, closedAt]) => closedAt === 0 || closedAt >= cutoff).map(([sn]) => sn);
	}

	/**
	 * What a client sends is ignored ("ping" never reaches here: the runtime
	 * answers it without waking the object), but it is bounded: a frame over
	 * MAX_CLIENT_FRAME_BYTES UTF-8 bytes closes the channel (1009), and so do
	 * more than MAX_CLIENT_FRAMES_PER_WINDOW frames in CLIENT_FRAME_WINDOW_MS (1008).
	 */
	override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
		if (frameBytes(message) > MAX_CLIENT_FRAME_BYTES) {
			this.#end(socket, { code: 1009, reason: `frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes` });
			return;
		}
		const state = stateOf(socket);
		const now = clock.now();
		const frames = now - state.frames.since < CLIENT_FRAME_WINDOW_MS ? state.frames : { since: now, count: 0 };
		frames.count++;
		if (frames.count > MAX_CLIENT_FRAMES_PER_WINDOW) {
			this.#end(socket, {
				code: 1008,
				reason: `at most ${MAX_CLIENT_FRAMES_PER_WINDOW} frames besides "ping" per ${CLIENT_FRAME_WINDOW_MS / 1000} s`,
			});
			return;
		}
		socket.serializeAttachment({ ...state, frames });
	}

	override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
		this.#closed(socket);
		try {
			socket.close(code === 1005 ? 1000 : code, "closed");
		} catch {
			// already closed
		}
		await this.#syncPresence().catch((error) =>
			console.error(JSON.stringify({ at: "UserChannels.close", dependency: "D1", error: String(error) })),
		);
	}

	/** The server ends a channel: closed with `why`, its device noted, presence corrected (in the background). */
	#end(socket: WebSocket, why: { code: number; reason: string }): void {
		this.#catchingUp.delete(socket);
		try {
			socket.close(why.code, why.reason);
		} catch {
			// already closed
		}
		this.#closed(socket);
		void this.#syncPresence().catch(() => undefined);
	}

	/** Notes that `socket` closed: its device's last channel, if no other of that device is open. */
	#closed(socket: WebSocket): void {
		const { deviceSn } = stateOf(socket);
		const stillOpen = this.ctx
			.getWebSockets()
			.some((s) => s !== socket && s.readyState === WebSocket.OPEN && stateOf(s).deviceSn === deviceSn);
		if (!stillOpen) this.#remember(deviceSn, clock.now());
	}

	// ---- credentials that end -------------------------------------------------

	/** The alarm fires when the next channel's credentials must be checked (none: no alarm needed). */
	async #armCredentialsCheck(soon?: number): Promise<void> {
		const now = clock.now();
		let due = soon ?? Number.POSITIVE_INFINITY;
		for (const socket of this.ctx.getWebSockets()) {
			if (socket.readyState !== WebSocket.OPEN) continue;
			const { expiresAt, adminTokenHash } = stateOf(socket);
			if (expiresAt !== null) due = Math.min(due, expiresAt);
			if (adminTokenHash !== null) due = Math.min(due, now + ADMIN_CHANNEL_RECHECK_MS);
		}
		if (!Number.isFinite(due)) return;
		const armed = await this.ctx.storage.getAlarm();
		if (armed === null || armed > due) await this.ctx.storage.setAlarm(due);
	}

	/** Closes the channels whose token expired (4001) and those opened with an admin token that was rotated since (4003). */
	override async alarm(): Promise<void> {
		this.#withLiveCredentials();
		const admins = this.ctx.getWebSockets().filter((s) => s.readyState === WebSocket.OPEN && stateOf(s).adminTokenHash !== null);
		const owner = this.#ownerOf();
		let soon: number | undefined;
		if (admins.length > 0 && owner) {
			try {
				const current = await adminTokenHashOf(await appDatabase(this.env, owner.appId), owner.appId);
				for (const socket of admins) if (stateOf(socket).adminTokenHash !== current) this.#end(socket, CREDENTIALS_REVOKED);
			} catch (error) {
				console.error(JSON.stringify({ at: "UserChannels.alarm", dependency: "D1", error: String(error) }));
				soon = clock.now() + RECHECK_AFTER_FAILURE_MS;
			}
		}
		await this.#armCredentialsCheck(soon);
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

/** A client frame's size in bytes (UTF-8 for text); a text of more UTF-16 units than the limit is over it whatever they encode to. */
const frameBytes = (message: string | ArrayBuffer): number =>
	typeof message !== "string"
		? message.byteLength
		: message.length > MAX_CLIENT_FRAME_BYTES
			? message.length
			: new TextEncoder().encode(message).byteLength;

const refuse = (status: number, message: string, retryAfterS: string) =>
	errorResponse(new ApiError(status, message, null, { "retry-after": retryAfterS }));
