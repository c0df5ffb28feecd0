// The trust boundary of message callbacks (docs/API.md, "Message callbacks"):
// what a callback URL and secret may be, a secret that never follows the URL,
// bot backends that hear only their users, tombstones for recalled messages,
// backoff from the end of an attempt, and the URL checked again at delivery.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { attemptDelivery, transport } from "../src/callbacks/deliver";
import { clock } from "../src/clock";
import { conversationObject, pairKey } from "../src/conversation/key";
import type { DueCallback } from "../src/db/callbacks";
import { receiver, setSettings, waitForRow } from "./receiver";
import { ack, call, createApp, recall, registerUser, send, snapshot, type TestApp, userToken } from "./support";

/** Only the clock is restored after each test: the receivers' network (test/receiver.ts) stays installed for the file. */
afterEach(() => vi.mocked(clock.now).mockRestore?.());

const ALL_EVENTS = ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"];
const SECRET = "a-good-secret-0123456789";

const change = (app: TestApp, body: Record<string, unknown>, options: { env?: Env } = {}) =>
	call("/app/settings", { app, body, ...options });
const deployed = () => ({ ...env, CALLBACK_ALLOW_PRIVATE: "false" }) as Env;

/** A callback as the drainer holds it, for one attempt (attemptDelivery). */
const due = (over: Partial<DueCallback> = {}): DueCallback => ({
	id: 1,
	webhookId: "0".repeat(32),
	event: "CHAT",
	msgId: 1,
	relatedMid: 0,
	fromUid: 1,
	fromDeviceSn: 0,
	toUid: 2,
	contentType: 0,
	content: "hello",
	ext: "",
	config: "",
	attachment: "",
	timestamp: 0,
	isSystem: false,
	attempts: 0,
	nextAttemptAt: 0,
	recalled: false,
	...over,
});

describe("callback_secret: printable ASCII, and a rule named when refused", () => {
	it.each([
		["a line break (CR LF)", "secret-line-1\r\nX-Injected: yes"],
		["a newline", "0123456789abcdef\n"],
		["NUL", "0123456789abcdef\u0000"],
		["a non-ASCII letter", "0123456789abcdéf"],
		["a leading space", " 0123456789abcdef"],
		["a trailing space", "0123456789abcdef "],
		["a space inside", "0123456789 abcdef"],
		["a tab", "0123456789\tabcdef"],
	])("a secret holding %s is 400 naming the characters it may hold, and nothing changes", async (_, secret) => {
		const app = await createApp();
		const before = await snapshot();
		const reply = await change(app, { callback_secret: secret });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toBe(
			'Field "callback_secret" must be printable ASCII from ! to ~ (no space, control or non-ASCII character): it travels in a header.',
		);
		expect(await snapshot()).toBe(before);
	});

	it("a refused value names the rule it broke, not only its type: a short secret, a long one, a long URL", async () => {
		const app = await createApp();
		expect((await change(app, { callback_secret: "too-short" })).body.message).toBe(
			'Field "callback_secret" must be 16 to 256 characters, or "" to remove it.',
		);
		expect((await change(app, { callback_secret: "x".repeat(257) })).body.message).toBe(
			'Field "callback_secret" must be 16 to 256 characters, or "" to remove it.',
		);
		expect((await change(app, { callback_url: `https://bot.example.com/${"a".repeat(2048)}` })).body.message).toBe(
			'Field "callback_url" must be at most 2048 characters.',
		);
		expect((await change(app, { callback_secret: 12 })).body.message).toBe('Field "callback_secret" must be a string.');
	});

	it('"" removes the secret; the edge characters ! and ~ are allowed', async () => {
		const app = await createApp();
		expect((await change(app, { callback_secret: "!~!~!~!~!~!~!~!~" })).body.data.callback_secret_set).toBe(true);
		expect((await change(app, { callback_secret: "" })).body.data.callback_secret_set).toBe(false);
	});
});

describe("a secret never follows the URL to another host", () => {
	it("moving callback_url to another host while a secret is set needs callback_secret in the same request (400 otherwise, nothing changed)", async () => {
		const app = await createApp();
		await setSettings(app, { callback_url: "https://hooks.example.com/im", callback_secret: SECRET });
		const before = await snapshot();
		const moved = await change(app, { callback_url: "https://attacker.example.net/im" });
		expect(moved.status).toBe(400);
		expect(moved.body.message).toContain('"callback_secret" is required when "callback_url" moves to another host');
		expect(await snapshot()).toBe(before);
		// The same host (another path or port) keeps the secret.
		const samePlace = await change(app, { callback_url: "https://hooks.example.com:8443/im/v2" });
		expect(samePlace.body.data).toMatchObject({ callback_url: "https://hooks.example.com:8443/im/v2", callback_secret_set: true });
		// Another host with a new secret, or with "" (none).
		expect((await change(app, { callback_url: "https://new.example.org/im", callback_secret: `${SECRET}-2` })).status).toBe(200);
		const bare = await change(app, { callback_url: "https://third.example.org/im", callback_secret: "" });
		expect(bare.body.data).toMatchObject({ callback_url: "https://third.example.org/im", callback_secret_set: false });
		// With no secret set, nothing can follow: another host needs no secret.
		expect((await change(app, { callback_url: "https://fourth.example.org/im" })).status).toBe(200);
		// Removing the URL never needs one.
		await setSettings(app, { callback_secret: SECRET });
		expect((await change(app, { callback_url: "" })).status).toBe(200);
	});
});

describe("the callback URL guard", () => {
	it.each([
		"https://198.18.0.1/hook",
		"https://198.19.255.254/hook",
		"https://224.0.0.1/hook",
		"https://239.255.255.250/hook",
		"https://240.0.0.1/hook",
		"https://255.255.255.255/hook",
		"https://intranet/hook",
		"https://metadata:8443/computeMetadata",
	])("a deployment refuses %s (benchmarking, multicast, reserved, broadcast, single-label)", async (url) => {
		const app = await createApp();
		const before = await snapshot();
		const reply = await change(app, { callback_url: url }, { env: deployed() });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"callback_url"');
		expect(await snapshot()).toBe(before);
	});

	it("the neighbours of those ranges are public and allowed", async () => {
		const app = await createApp();
		for (const url of [
			"https://198.20.0.1/hook",
			"https://198.17.255.255/hook",
			"https://223.255.255.254/hook",
			"https://hooks.example.com/h",
		]) {
			expect((await change(app, { callback_url: url }, { env: deployed() })).status, url).toBe(200);
		}
	});

	it("the URL is checked again when delivering: one stored before a rule existed is dead-lettered, never called", async () => {
		const hook = receiver();
		const calls = () => vi.mocked(transport.post).mock.calls.length;
		const before = calls();
		for (const url of ["https://intranet/hook", "https://198.18.0.5/hook", "http://hooks.example.com/h", "ftp://x.example.com/"]) {
			const outcome = await attemptDelivery(due(), { appKey: "k", url, secret: "", maxAttempts: 10 }, false);
			expect(outcome, url).toMatchObject({ kind: "dead", attempts: 0 });
			expect(outcome.kind === "dead" && outcome.error, url).toContain("callback_url");
		}
		expect(calls()).toBe(before);
		// Local dev allows private and plain-http URLs (as when they were set).
		expect((await attemptDelivery(due(), { appKey: "k", url: hook.url, secret: "", maxAttempts: 10 }, true)).kind).toBe("delivered");
	});

	it("a secret stored before the rule (a newline in it) dead-letters the callback without sending it or showing the secret", async () => {
		const hook = receiver();
		const app = await createApp();
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		await setSettings(app, { callback_url: hook.url });
		const stored = "old-secret-with\nnewline";
		await env.DB.prepare("UPDATE apps SET callback_secret = ? WHERE id = ?").bind(stored, app.appId).run();
		await send(app, await userToken(app, alice), { targets: [bob], content: "hi" });
		const [row] = await waitForRow(app.appId, (rows) => rows[0]?.state === "dead");
		expect(row?.last_error).toContain("callback_secret");
		expect(row?.last_error).not.toContain("newline");
		expect(hook.received).toEqual([]);
	});

	it("a connection error that quotes the secret is recorded without it", async () => {
		const hook = receiver(() => {
			throw new TypeError(`Invalid header value: ${SECRET}`);
		});
		const outcome = await attemptDelivery(due(), { appKey: "k", url: hook.url, secret: SECRET, maxAttempts: 1 }, true);
		expect(outcome).toMatchObject({ kind: "dead", error: "Could not connect: Invalid header value: [secret]" });
	});
});

describe("callback_user_ids: a bot backend hears only its bots' conversations", () => {
	it("validation: at most 100 distinct users of the app; each refusal names the field; nothing changes", async () => {
		const app = await createApp();
		const user = await registerUser(app);
		const group = (await call("/group/create", { app, headers: { user_id: String(user) }, body: {} })).body.data.group_id;
		const before = await snapshot();
		for (const ids of [Array.from({ length: 101 }, (_, i) => i + 1), [user, user], [group], [0], [123456789], "1,2", [1.5]]) {
			const reply = await change(app, { callback_user_ids: ids });
			expect(reply.status, JSON.stringify(ids)).toBe(400);
			expect(reply.body.message, JSON.stringify(ids)).toContain('"callback_user_ids');
		}
		expect(await snapshot()).toBe(before);
		expect((await change(app, { callback_user_ids: [user] })).body.data.callback_user_ids).toEqual([user]);
		expect((await call("/app/settings", { app })).body.data.callback_user_ids).toEqual([user]);
		expect((await change(app, { callback_user_ids: [] })).body.data.callback_user_ids).toEqual([]);
	});

	it("only writes with a listed user among their parties are called back: 1:1 from or to the bot, groups the bot is a member of, and their edits, recalls and reads", async () => {
		const hook = receiver();
		const app = await createApp();
		const [bot, alice, bob] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken, botToken] = [await userToken(app, alice), await userToken(app, bob), await userToken(app, bot)];
		await setSettings(app, { callback_url: hook.url, callback_events: ALL_EVENTS, callback_user_ids: [bot] });
		const withBot = (await call("/group/create", { app, token: aliceToken, body: { user_list: [bot] } })).body.data.group_id;
		const humans = (await call("/group/create", { app, token: aliceToken, body: { user_list: [bob] } })).body.data.group_id;
		// Between two humans: nothing, nor of its edits, recall or read.
		const [private1] = (await send(app, aliceToken, { targets: [bob], content: "private" })).body.msg_ids;
		await send(app, aliceToken, { targets: [bob], content_type: 12, related_mid: private1, content: "private, edited" });
		await ack(app, bobToken, alice, private1);
		await recall(app, aliceToken, bob, private1);
		await send(app, aliceToken, { type: 2, targets: [humans], content: "humans only" });
		// With the bot: a question to it, its answer, a group it is in, and their edits and reads.
		const [question] = (await send(app, aliceToken, { targets: [bot], content: "question" })).body.msg_ids;
		await ack(app, botToken, alice, question);
		await send(app, botToken, { targets: [alice], content: "answer" });
		const [inGroup] = (await send(app, aliceToken, { type: 2, targets: [withBot], content: "to the bot's group" })).body.msg_ids;
		await send(app, aliceToken, { type: 2, targets: [withBot], content_type: 11, related_mid: inGroup, content: "+" });
		const got = await hook.count(5);
		await new Promise((r) => setTimeout(r, 200));
		expect(got.map((r) => [r.body.type, r.body.content])).toEqual([
			["CHAT", "question"],
			["READ", ""],
			["CHAT", "answer"],
			["GROUPCHAT", "to the bot's group"],
			["APPEND", "+"],
		]);
		// Membership is read where the write commits: the bot kicked, the group is no longer its business.
		expect((await call("/group/kick", { app, token: aliceToken, body: { group_id: withBot, user_list: [bot] } })).status).toBe(200);
		await send(app, aliceToken, { type: 2, targets: [withBot], content: "after the kick" });
		await send(app, aliceToken, { targets: [bot], content: "still a question" });
		await hook.count(6);
		await new Promise((r) => setTimeout(r, 200));
		expect(hook.received.map((r) => r.body.content).slice(5)).toEqual(["still a question"]);
	});
});

describe("callbacks carry the message as it is when sent", () => {
	let offset = 0;
	const advanceClock = (ms: number) => {
		offset += ms;
		vi.spyOn(clock, "now").mockImplementation(() => Date.now() + offset);
	};
	afterEach(() => {
		offset = 0;
	});

	async function pair(settings: Record<string, unknown>) {
		const app = await createApp();
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		await setSettings(app, settings);
		return { app, alice, bob, aliceToken: await userToken(app, alice) };
	}

	it("a retry of a message recalled since its first attempt is a tombstone: content, ext, config and attachment empty, recalled true", async () => {
		const hook = receiver((_, n) => new Response("busy", { status: n === 1 ? 500 : 200 }));
		const p = await pair({ callback_url: hook.url });
		advanceClock(0);
		const [mid] = (await send(p.app, p.aliceToken, { targets: [p.bob], content: "regret", ext: '{"k":1}', config: "c" })).body.msg_ids;
		await hook.count(1);
		await waitForRow(p.app.appId, (rows) => rows[0]?.attempts === 1);
		expect((await recall(p.app, p.aliceToken, p.bob, mid)).status).toBe(200);
		advanceClock(2_000);
		await runDurableObjectAlarm(conversationObject(env, p.app.appId, pairKey(p.alice, p.bob)));
		const [first, retry] = await hook.count(2);
		expect(first?.body).toMatchObject({ msgId: String(mid), content: "regret", ext: '{"k":1}' });
		expect(first?.body).not.toHaveProperty("recalled");
		expect(retry?.body).toMatchObject({ msgId: String(mid), content: "", ext: "", config: "", attachment: "", recalled: true });
		expect(retry?.headers["x-webhook-id"]).toBe(first?.headers["x-webhook-id"]);
	});

	it("a callback waiting behind a slow one, for a message recalled meanwhile, goes out as a tombstone", async () => {
		let release: () => void = () => undefined;
		const slow = new Promise<void>((r) => {
			release = r;
		});
		const hook = receiver(async (_, n) => {
			if (n === 1) await slow;
			return new Response("ok");
		});
		const p = await pair({ callback_url: hook.url });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "first" });
		const [second] = (await send(p.app, p.aliceToken, { targets: [p.bob], content: "second, then recalled" })).body.msg_ids;
		await hook.count(1);
		expect((await recall(p.app, p.aliceToken, p.bob, second)).status).toBe(200);
		release();
		const [, later] = await hook.count(2);
		expect(later?.body).toMatchObject({ msgId: String(second), content: "", recalled: true });
	});

	it("a redelivered dead letter of a recalled message is a tombstone", async () => {
		const hook = receiver(() => new Response("down", { status: 500 }));
		const p = await pair({ callback_url: hook.url, callback_max_attempts: 1 });
		const [mid] = (await send(p.app, p.aliceToken, { targets: [p.bob], content: "dead, then recalled" })).body.msg_ids;
		await waitForRow(p.app.appId, (rows) => rows[0]?.state === "dead");
		await recall(p.app, p.aliceToken, p.bob, mid);
		hook.answerWith(() => new Response("ok"));
		expect((await call("/app/callbacks/redeliver", { app: p.app, body: { all: true } })).body.data).toEqual({ queued: 1 });
		const [, again] = await hook.count(2);
		expect(again?.body).toMatchObject({ msgId: String(mid), content: "", recalled: true });
	});

	it("the backoff counts from the end of a failed attempt: a receiver that hangs until the timeout is not tried again at once", async () => {
		const start = Date.now();
		let now = start;
		vi.spyOn(clock, "now").mockImplementation(() => now);
		const hook = receiver(() => {
			now += 10_000; // the attempt hangs until the 10 s timeout
			throw new DOMException("The operation timed out.", "TimeoutError");
		});
		const outcome = await attemptDelivery(due({ nextAttemptAt: start }), { appKey: "k", url: hook.url, secret: "", maxAttempts: 5 }, true);
		expect(outcome.kind).toBe("retry");
		expect(outcome.kind === "retry" && outcome.nextAttemptAt).toBeGreaterThanOrEqual(start + 10_000 + 800);
	});

	it("POST /app/callbacks/redeliver naming nothing is 400: {}, an empty list, all false", async () => {
		const app = await createApp();
		for (const body of [{}, { webhook_ids: [] }, { all: false }, { webhook_ids: [], all: false }]) {
			const reply = await call("/app/callbacks/redeliver", { app, body });
			expect(reply.status, JSON.stringify(body)).toBe(400);
			expect(reply.body.message).toContain("webhook_ids");
		}
	});
});
