// The client library's own logic (client/src, docs/CLIENT.md): reconnect
// delays, where a channel resumes, dropping what arrives twice, reading read
// states again after a reconnect, and asking for fresh credentials when a
// channel's end. The service is played by a fake fetch and a fake WebSocket;
// test/e2e/client.e2e.ts runs the library against the real one.
import { describe, expect, it, vi } from "vitest";
import { backoffMs, Chat, ImClient, ImError, ResumePoint, type WebSocketLike } from "../client/src/index";

describe("backoff", () => {
	it("doubles from 500 ms up to 30 s, and a random half of each delay is jitter", () => {
		expect([0, 1, 2, 3].map((n) => backoffMs(n, 1))).toEqual([500, 1000, 2000, 4000]);
		expect([0, 1, 2, 3].map((n) => backoffMs(n, 0))).toEqual([250, 500, 1000, 2000]);
		expect(backoffMs(20, 1)).toBe(30_000);
		expect(backoffMs(20, 0)).toBe(15_000);
		for (let n = 0; n < 50; n++) {
			const d = backoffMs(n, Math.random(), { baseMs: 100, maxMs: 5_000 });
			expect(d).toBeGreaterThanOrEqual(Math.min(5_000, 100 * 2 ** n) / 2);
			expect(d).toBeLessThanOrEqual(5_000);
		}
	});

	it("the resume point keeps the largest id seen, and nothing that is not an id", () => {
		const r = new ResumePoint();
		for (const id of [5, 3, 9, Number.NaN, 2 ** 60, -1, 7]) r.seen(id);
		expect(r.since).toBe(9);
	});
});

/** A fake WebSocket: every instance is recorded; the test opens, feeds and closes it. */
class FakeSocket implements WebSocketLike {
	static made: FakeSocket[] = [];
	readyState = 0;
	sent: string[] = [];
	readonly #listeners = new Map<string, ((event: { data?: unknown; code?: number }) => void)[]>();
	constructor(readonly url: string) {
		FakeSocket.made.push(this);
	}
	addEventListener(type: string, listener: (event: { data?: unknown; code?: number }) => void) {
		this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
	}
	send(data: string) {
		this.sent.push(data);
	}
	close(code = 1000) {
		this.closeWith(code);
	}
	open() {
		this.readyState = 1;
		for (const l of this.#listeners.get("open") ?? []) l({});
	}
	emit(event: string, data: unknown) {
		for (const l of this.#listeners.get("message") ?? []) l({ data: JSON.stringify({ event, data }) });
	}
	closeWith(code: number) {
		this.readyState = 3;
		for (const l of this.#listeners.get("close") ?? []) l({ code });
	}
	get params() {
		return new URL(this.url).searchParams;
	}
}

const message = (id: number, from: number, to: number, extra: Record<string, unknown> = {}) => ({
	msg_id: id,
	type: "CHAT",
	ctype: "TEXT",
	content: `m${id}`,
	attachment: "",
	config: "",
	ext: "",
	timestamp: 1_000 + id,
	status: "DELIVERED",
	from_xid: { uid: from, device_sn: 0 },
	to_xid: { uid: to, device_sn: 0 },
	recalled: false,
	is_system: false,
	...extra,
});

const ME = 1;

/** A fake service: the unread list and one conversation's history, and a record of every call. */
function fakeService() {
	const calls: string[] = [];
	const state = {
		unread: [{ conversation_id: { uid: 7, device_sn: 0 }, num: 2, type: 1, last_msg_id: 40, last_timestamp: 1 }] as unknown[],
		history: [message(55, 9, ME), message(50, ME, 9)] as ReturnType<typeof message>[],
		unauthorized: false,
		/** When set, answers to `gatedPath` wait for it (a slow read: events arrive while it is in flight). */
		gate: null as Promise<void> | null,
		gatedPath: "",
	};
	const fetch = vi.fn(async (input: RequestInfo | URL) => {
		const url = new URL(String(input));
		calls.push(url.pathname);
		const { unread, history } = state; // what the service holds when the call arrives
		if (state.gate && url.pathname === state.gatedPath) await state.gate;
		const json = (data: unknown, extra: Record<string, unknown> = {}) =>
			new Response(JSON.stringify({ code: 200, message: "", data, ...extra }), { headers: { "x-request-id": "r1" } });
		if (state.unauthorized) return new Response(JSON.stringify({ code: 401, message: "expired", data: null }), { status: 401 });
		if (url.pathname === "/message/unread") return json(unread, { cursor: "" });
		if (url.pathname === "/message/conversation") return json({ messages: history, is_last: true, next_msg_id: 0 });
		if (url.pathname === "/message/ack") return json(true);
		return new Response(JSON.stringify({ code: 404, message: "no", data: null }), { status: 404 });
	});
	return { calls, state, fetch: fetch as unknown as typeof globalThis.fetch };
}

function chatOn(service: ReturnType<typeof fakeService>, credentials?: () => Promise<string>) {
	FakeSocket.made = [];
	const im = new ImClient({ baseUrl: "https://im.test", appId: "1", token: "t1", fetch: service.fetch });
	const chat = new Chat(im, { userId: ME, WebSocket: FakeSocket, backoff: { baseMs: 10, maxMs: 20 }, credentials });
	return { im, chat };
}

const lastSocket = () => FakeSocket.made[FakeSocket.made.length - 1] as FakeSocket;

describe("Chat: resume and reconnect", () => {
	it("resumes from the largest id it has seen anywhere: the unread list and history count, before any live event", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		await chat.loadConversations();
		expect(chat.since).toBe(40);
		await chat.open(9, 1);
		chat.start();
		expect(lastSocket().params.get("since")).toBe("55");
		expect(lastSocket().params.get("access_token")).toBe("t1");
		chat.stop();
	});

	it("holds a message once though it arrives twice (a resume replays what overtook the cut); the list counts it once", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		await chat.loadConversations();
		await chat.open(9, 1);
		chat.start();
		lastSocket().open();
		const live = { ...message(60, 9, ME), conversation_id: 9, online_only: false };
		lastSocket().emit("message", live);
		lastSocket().emit("message", live);
		expect(chat.messages(9).map((m) => m.msg_id)).toEqual([50, 55, 60]);
		expect(chat.conversations().find((e) => e.conversation_id.uid === 9)).toMatchObject({ num: 1, last_msg_id: 60 });
		expect(chat.since).toBe(60);
		chat.stop();
	});

	it("reconnects after a cut with backoff, resumes from what it saw, and reads the list and held conversations again", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		const states: string[] = [];
		chat.on("state", (s) => states.push(s));
		await chat.open(9, 1);
		chat.start();
		lastSocket().open();
		lastSocket().emit("message", { ...message(61, 9, ME), conversation_id: 9, online_only: false });
		// While away, the peer recalled 55 and read my message 50: only reading them again tells.
		service.state.history = [
			message(61, 9, ME),
			message(55, 9, ME, { recalled: true, content: "" }),
			message(50, ME, 9, { status: "READ" }),
		];
		service.calls.length = 0;
		lastSocket().closeWith(1006);
		await vi.waitFor(() => expect(FakeSocket.made).toHaveLength(2));
		expect(lastSocket().params.get("since")).toBe("61");
		lastSocket().open();
		await vi.waitFor(() => expect(chat.messages(9).find((m) => m.msg_id === 55)?.recalled).toBe(true));
		expect(chat.messages(9).find((m) => m.msg_id === 50)?.status).toBe("READ");
		expect(service.calls).toContain("/message/unread");
		expect(service.calls).toContain("/message/conversation");
		expect(states).toEqual(["connecting", "live", "offline", "connecting", "live"]);
		chat.stop();
		expect(chat.state).toBe("stopped");
	});

	it("what arrives while the list or a conversation is being read again is kept, not overwritten by the older snapshot", async () => {
		for (const gatedPath of ["/message/unread", "/message/conversation"]) {
			const service = fakeService();
			const { chat } = chatOn(service);
			await chat.loadConversations();
			await chat.open(9, 1);
			chat.start();
			lastSocket().open();
			let release = () => {};
			Object.assign(service.state, { gatedPath, gate: new Promise<void>((r) => (release = r)) });
			lastSocket().closeWith(1006);
			await vi.waitFor(() => expect(FakeSocket.made).toHaveLength(2));
			lastSocket().open(); // the re-read starts
			await vi.waitFor(() => expect(service.calls.at(-1)).toBe(gatedPath));
			// Meanwhile a message arrives, and a recall: the service has them, the snapshot being read neither.
			service.state.history = [
				message(80, 9, ME),
				message(55, 9, ME, { content: "", recalled: true }),
				message(50, ME, 9, { status: "READ" }),
			];
			service.state.unread = [
				{ conversation_id: { uid: 9, device_sn: 0 }, num: 1, type: 1, last_msg_id: 80, last_timestamp: 2 },
				...service.state.unread,
			];
			lastSocket().emit("message", { ...message(80, 9, ME), conversation_id: 9, online_only: false });
			lastSocket().emit("update", { conversation_id: 9, message: { ...message(55, 9, ME), content: "", recalled: true } });
			// And a replay of my message 50 from before the cut, which the peer has read since: READ stays.
			lastSocket().emit("message", { ...message(50, ME, 9), conversation_id: 9, online_only: false });
			release();
			await vi.waitFor(() => expect(service.calls.filter((c) => c === "/message/conversation")).toHaveLength(2));
			await new Promise((r) => setTimeout(r, 20));
			expect(
				chat.messages(9).map((m) => [m.msg_id, m.recalled, m.status]),
				gatedPath,
			).toEqual([
				[50, false, "READ"],
				[55, true, "DELIVERED"],
				[80, false, "DELIVERED"],
			]);
			expect(
				chat.conversations().map((e) => [e.conversation_id.uid, e.last_msg_id, e.num]),
				gatedPath,
			).toEqual([
				[9, 80, 1],
				[7, 40, 2],
			]);
			chat.stop();
		}
	});

	it("a channel closed 4001 (token expired) or 4003 (credentials revoked) asks for fresh credentials and resumes with them at once", async () => {
		const service = fakeService();
		let n = 0;
		const credentials = vi.fn(async () => `fresh-${++n}`);
		const { chat, im } = chatOn(service, credentials);
		chat.start();
		lastSocket().open();
		lastSocket().emit("message", { ...message(70, 9, ME), conversation_id: 9, online_only: false });
		for (const code of [4001, 4003]) {
			const before = FakeSocket.made.length;
			lastSocket().closeWith(code);
			await vi.waitFor(() => expect(FakeSocket.made.length).toBe(before + 1));
			lastSocket().open();
		}
		expect(credentials).toHaveBeenCalledTimes(2);
		expect(im.token).toBe("fresh-2");
		expect(lastSocket().params.get("access_token")).toBe("fresh-2");
		expect(lastSocket().params.get("since")).toBe("70");
		chat.stop();
	});

	it("refused before opening with a token the service no longer takes (401): asks for fresh credentials", async () => {
		const service = fakeService();
		const credentials = vi.fn(async () => "fresh");
		const { chat } = chatOn(service, credentials);
		service.state.unauthorized = true;
		chat.start();
		lastSocket().closeWith(1006); // never opened
		await vi.waitFor(() => expect(credentials).toHaveBeenCalled());
		service.state.unauthorized = false;
		await vi.waitFor(() => expect(FakeSocket.made).toHaveLength(2));
		expect(lastSocket().params.get("access_token")).toBe("fresh");
		chat.stop();
	});

	it("applies edits, recalls and read receipts to what it holds; the peer's read, or the peer's reply, marks my messages READ", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		await chat.open(9, 1);
		chat.start();
		lastSocket().open();
		lastSocket().emit("append", { conversation_id: 9, msg_id: 55, content: " more", online_only: true });
		expect(chat.messages(9).find((m) => m.msg_id === 55)?.content).toBe("m55 more");
		lastSocket().emit("update", { conversation_id: 9, message: { ...message(55, 9, ME), content: "final" } });
		expect(chat.messages(9).find((m) => m.msg_id === 55)?.content).toBe("final");
		lastSocket().emit("read", { conversation_id: 9, user_id: 9, msg_id: 50, device_sn: 0 });
		expect(chat.messages(9).find((m) => m.msg_id === 50)?.status).toBe("READ");
		lastSocket().emit("update", { conversation_id: 9, message: { ...message(55, 9, ME), content: "", recalled: true } });
		expect(chat.messages(9).find((m) => m.msg_id === 55)).toMatchObject({ recalled: true, content: "" });
		chat.stop();
	});
});

describe("Chat: what a message says about reading", () => {
	it("sending implies having read: the peer's reply marks my earlier messages READ, my own send my earlier received ones", async () => {
		const service = fakeService();
		service.state.history = [message(56, 9, ME), message(55, ME, 9, { status: "UNREAD" }), message(54, 9, ME)];
		const { chat } = chatOn(service);
		await chat.open(9, 1);
		chat.start();
		lastSocket().open();
		lastSocket().emit("message", { ...message(57, ME, 9, { status: "UNREAD" }), conversation_id: 9, online_only: false });
		expect(chat.messages(9).map((m) => [m.msg_id, m.status])).toEqual([
			[54, "READ"],
			[55, "UNREAD"],
			[56, "READ"],
			[57, "UNREAD"],
		]);
		lastSocket().emit("message", { ...message(58, 9, ME), conversation_id: 9, online_only: false });
		expect(
			chat
				.messages(9)
				.filter((m) => m.from_xid.uid === ME)
				.map((m) => m.status),
		).toEqual(["READ", "READ"]);
		chat.stop();
	});
});

describe("Chat: my reads on another device", () => {
	it("read up to the newest message: the count is zero without asking; read up to an earlier one: the list is read again", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		await chat.loadConversations();
		chat.start();
		lastSocket().open();
		const before = service.calls.length;
		lastSocket().emit("read", { conversation_id: 7, user_id: ME, msg_id: 40, device_sn: 2 });
		expect(chat.conversations()[0]).toMatchObject({ num: 0 });
		expect(service.calls.length).toBe(before);
		lastSocket().emit("read", { conversation_id: 7, user_id: ME, msg_id: 30, device_sn: 2 });
		await vi.waitFor(() => expect(service.calls.length).toBe(before + 1));
		expect(service.calls.at(-1)).toBe("/message/unread");
		chat.stop();
	});
});

describe("Chat: counts that stay right when events cross", () => {
	it("my read (another device) arrives before the message it covers: the message is READ and not counted", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		await chat.loadConversations();
		await chat.open(7, 1);
		chat.start();
		lastSocket().open();
		lastSocket().emit("read", { conversation_id: 7, user_id: ME, msg_id: 41, device_sn: 2 });
		lastSocket().emit("message", { ...message(41, 7, ME), conversation_id: 7, online_only: false });
		expect(chat.conversations()[0]).toMatchObject({ last_msg_id: 41, num: 0 });
		expect(chat.messages(7).find((m) => m.msg_id === 41)?.status).toBe("READ");
		lastSocket().emit("message", { ...message(42, 7, ME), conversation_id: 7, online_only: false });
		expect(chat.conversations()[0]).toMatchObject({ last_msg_id: 42, num: 1 });
		chat.stop();
	});

	it("a replay counted while the list was being read again: at the same last message, the list's lower count wins (I read them meanwhile)", async () => {
		const service = fakeService();
		const { chat } = chatOn(service);
		await chat.loadConversations();
		chat.start();
		lastSocket().open();
		let release = () => {};
		Object.assign(service.state, { gatedPath: "/message/unread", gate: new Promise<void>((r) => (release = r)) });
		lastSocket().closeWith(1006);
		await vi.waitFor(() => expect(FakeSocket.made).toHaveLength(2));
		// While away, 41 and 42 came and I read them on another device: the service's list says 0.
		service.state.unread = [{ conversation_id: { uid: 7, device_sn: 0 }, num: 0, type: 1, last_msg_id: 42, last_timestamp: 2 }];
		lastSocket().open();
		await vi.waitFor(() => expect(service.calls.at(-1)).toBe("/message/unread"));
		for (const id of [41, 42]) lastSocket().emit("message", { ...message(id, 7, ME), conversation_id: 7, online_only: false });
		expect(chat.conversations()[0]).toMatchObject({ last_msg_id: 42, num: 4 });
		release();
		await vi.waitFor(() => expect(chat.conversations()[0]).toMatchObject({ last_msg_id: 42, num: 0 }));
		// A message after it counts from there.
		lastSocket().emit("message", { ...message(43, 7, ME), conversation_id: 7, online_only: false });
		expect(chat.conversations()[0]).toMatchObject({ last_msg_id: 43, num: 1 });
		chat.stop();
	});
});

describe("ImClient", () => {
	it("an error is an ImError with the code, the message and the request id; an unreachable service is code 0", async () => {
		const im = new ImClient({
			baseUrl: "https://im.test",
			appId: "1",
			fetch: (async () =>
				new Response(JSON.stringify({ code: 503, message: "retry", data: null }), {
					status: 503,
					headers: { "x-request-id": "abc", "retry-after": "2" },
				})) as unknown as typeof fetch,
		});
		const error = await im.getMessageUnread().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ImError);
		expect(error).toMatchObject({ code: 503, message: "retry", requestId: "abc", retryAfterS: 2, retryable: true });
		const down = new ImClient({
			baseUrl: "https://im.test",
			appId: "1",
			fetch: (async () => Promise.reject(new TypeError("refused"))) as unknown as typeof fetch,
		});
		expect(await down.getHealthz().catch((e: unknown) => e)).toMatchObject({ code: 0, requestId: null, retryable: true });
	});
});
