import { DurableObject } from "cloudflare:workers";
import { clock } from "../clock";
import { database } from "../db/client";
import { setOnline } from "../db/presence";
import { ApiError, errorResponse } from "../http/envelope";
import { MAX_CHANNELS_PER_USER, MAX_CLIENT_FRAME_BYTES } from "../limits";
import { eventFor, type Happening } from "./events";

/** Who this object serves; kept in its storage (the object's name is not visible to it). */
type Owner = { appId: number; userId: number };

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
		const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
		this.ctx.acceptWebSocket(server);
		server.serializeAttachment({ deviceSn });
		// The presence row exists before the client hears 101: every write committed after this pushes to it.
		try {
			await this.#syncPresence();
		} catch (error) {
			server.close(1011, "presence unavailable");
			console.error(JSON.stringify({ at: "UserChannels.open", dependency: "D1", error: String(error) }));
			return refuse(503, "The realtime service is unavailable; retry.", "1");
		}
		return new Response(null, { status: 101, webSocket: client });
	}

	/** Happenings of one conversation, in its commit order: each channel gets them as this user's events. */
	deliver(happenings: Happening[]): void {
		const owner = this.ctx.storage.kv.get<Owner>("owner");
		const sockets = this.ctx.getWebSockets();
		if (!owner || sockets.length === 0) {
			// A presence row outlived its channels (e.g. the object restarted): correct it.
			void this.#syncPresence().catch(() => undefined);
			return;
		}
		const frames = happenings.map((h) => JSON.stringify(eventFor(h, owner.userId)));
		for (const socket of sockets) {
			try {
				for (const frame of frames) socket.send(frame);
			} catch {
				// A dead channel: drop it; the others are unaffected.
				socket.close(1011, "send failed");
			}
		}
	}

	override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
		const size = typeof message === "string" ? message.length : message.byteLength;
		if (size > MAX_CLIENT_FRAME_BYTES) socket.close(1009, `frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes`);
		// Anything else a client sends is ignored ("ping" never reaches here: the runtime answers it).
	}

	override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
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
			const owner = this.ctx.storage.kv.get<Owner>("owner");
			if (!owner) return;
			const open = this.ctx.getWebSockets().some((s) => s.readyState === WebSocket.OPEN);
			await setOnline(database(this.env.DB), owner.appId, owner.userId, open, clock.now());
		});
		this.#presence = run.catch(() => undefined);
		return run;
	}
}

const refuse = (status: number, message: string, retryAfterS: string) =>
	errorResponse(new ApiError(status, message, null, { "retry-after": retryAfterS }));
