// Realtime channels in tests (docs/API.md "Real-time delivery"): open one through the Worker and
// collect what it receives.
import { SELF } from "cloudflare:test";
import { expect, vi } from "vitest";
import type { TestApp } from "./support";

/** An open channel, every event it has received, and how the server closed it (null: open). */
export type Channel = {
	socket: WebSocket;
	events: { event: string; data: any }[];
	texts: string[];
	closed: { code: number; reason: string } | null;
	close(): void;
};

export async function connect(headers: Record<string, string>, query = ""): Promise<Channel> {
	const response = await SELF.fetch(`https://im.test/realtime${query}`, { headers: { upgrade: "websocket", ...headers } });
	expect(response.status).toBe(101);
	const socket = response.webSocket as WebSocket;
	socket.accept();
	const channel: Channel = { socket, events: [], texts: [], closed: null, close: () => socket.close(1000, "done") };
	socket.addEventListener("close", (e) => {
		channel.closed = { code: e.code, reason: e.reason };
	});
	socket.addEventListener("message", (e) => {
		const text = String(e.data);
		channel.texts.push(text);
		if (text.startsWith("{")) channel.events.push(JSON.parse(text));
	});
	return channel;
}

/** Waits until `channel` has at least `n` events. */
export const eventsOf = (channel: Channel, n: number) =>
	vi.waitFor(
		() => {
			if (channel.events.length < n) throw new Error(`${channel.events.length} of ${n} events`);
			return channel.events;
		},
		{ timeout: 5_000, interval: 20 },
	);

/** The headers that open a channel as the token's user. */
export const asUser = (app: TestApp, token: string) => ({ app_id: app.key, "access-token": token });

/** Waits until the server has closed `channel`; its close code and reason. */
export const closeOf = (channel: Channel, timeout = 5_000) =>
	vi.waitFor(
		() => {
			if (!channel.closed) throw new Error("still open");
			return channel.closed;
		},
		{ timeout, interval: 20 },
	);
