// docs/API.md "Message callbacks" message callbacks, inside workerd: the outbox row is written in the
// write's own batch (for apps that want it), the conversation's object
// delivers in commit order with both signatures, retries with backoff,
// dead-letters, redelivers in order; the Cron Trigger sweeps and purges.
import {
	createExecutionContext,
	createScheduledController,
	runDurableObjectAlarm,
	runInDurableObject,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffMs, transport } from "../src/callbacks/deliver";
import { CallbackDrainer } from "../src/callbacks/drainer";
import { clock } from "../src/clock";
import { conversationObject, groupKey, pairKey } from "../src/conversation/key";
import { database } from "../src/db/client";
import worker from "../src/index";
import { meter } from "./meter";
import { outbox, receiver, setSettings, waitForRow } from "./receiver";
import { ack, call, createApp, d1Sessions, recall, registerUser, send, type TestApp, userToken } from "./support";

type Pair = { app: TestApp; alice: number; bob: number; aliceToken: string; bobToken: string };

async function pair(settings: Record<string, unknown> = {}): Promise<Pair> {
	const app = await createApp();
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	if (Object.keys(settings).length > 0) await setSettings(app, settings);
	return { app, alice, bob, aliceToken: await userToken(app, alice, { device_sn: 7 }), bobToken: await userToken(app, bob) };
}

async function hmacHex(secret: string, text: string) {
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
	return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function runSchedule() {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
	await waitOnExecutionContext(ctx);
}

let offset = 0;
function resetClock() {
	vi.mocked(clock.now).mockRestore?.();
	offset = 0;
}
afterEach(resetClock);

/** The service's clock runs ahead of real time by `offset` (never behind, so alarms set from it are never in the real past). */
function advanceClock(ms: number) {
	offset += ms;
	vi.spyOn(clock, "now").mockImplementation(() => Date.now() + offset);
}

/** Moves the clock past the drainer's recording delay and runs the object's alarm, which records what it delivered. */
async function recordDelivered(stub: DurableObjectStub) {
	advanceClock(6_000);
	await runDurableObjectAlarm(stub);
}

describe("the outbox is written with the write it reports", () => {
	it("an app without a callback URL pays nothing: no row for any write", async () => {
		const p = await pair();
		const sent = await send(p.app, p.aliceToken, { targets: [p.bob], content: "hi" });
		const id = sent.body.msg_ids[0];
		await send(p.app, p.aliceToken, { targets: [p.bob], content_type: 11, related_mid: id, content: " more" });
		await send(p.app, p.aliceToken, { targets: [p.bob], content_type: 12, related_mid: id, content: "all" });
		await ack(p.app, p.bobToken, p.alice, id);
		await recall(p.app, p.aliceToken, p.bob, id);
		await call("/message/notify", { app: p.app, body: { type: 1, targets: [p.bob], content_type: 0, content: "sys" } });
		expect(await outbox(p.app.appId)).toEqual([]);
	});

	it("a failing batch writes neither the message nor its callback (503, nothing owed)", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		const batch = vi.spyOn(d1Sessions, "batch").mockRejectedValueOnce(new Error("D1_ERROR: Network connection lost (injected)"));
		const failed = await send(p.app, p.aliceToken, { targets: [p.bob], content: "lost" });
		batch.mockRestore();
		expect(failed.status).toBe(503);
		expect(await outbox(p.app.appId)).toEqual([]);
		const count = await env.DB.prepare("SELECT count(*) AS n FROM messages WHERE app_id = ?").bind(p.app.appId).first<{ n: number }>();
		expect(count?.n).toBe(0);
		// The next send is called back as usual.
		const ok = await send(p.app, p.aliceToken, { targets: [p.bob], content: "kept" });
		const [r] = await hook.count(1);
		expect(r?.body.msgId).toBe(String(ok.body.msg_ids[0]));
	});

	it("online_only sends and operations are never called back", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url, callback_events: ["CHAT", "APPEND", "REPLACE", "RECALL", "READ"] });
		const sent = await send(p.app, p.aliceToken, { targets: [p.bob], content: "stored" });
		const id = sent.body.msg_ids[0];
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "live only", online_only: true });
		await send(p.app, p.aliceToken, { targets: [p.bob], content_type: 11, related_mid: id, content: "chunk", online_only: true });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "after" });
		const got = await hook.count(2);
		await new Promise((r) => setTimeout(r, 200));
		expect(got.map((r) => r.body.content)).toEqual(["stored", "after"]);
		// Nothing was ever owed for them: no row of theirs, pending or not.
		expect((await outbox(p.app.appId)).filter((r) => r.content === "live only" || r.content === "chunk")).toEqual([]);
	});
});

describe("what a callback carries", () => {
	it("CHAT: the source service's fields, ids as decimal strings, and both signatures", async () => {
		const secret = "callback-secret-0123456789";
		const hook = receiver();
		const p = await pair({ callback_url: hook.url, callback_secret: secret });
		const before = Date.now();
		const sent = await send(p.app, p.aliceToken, {
			targets: [p.bob],
			content: "hello bot",
			ext: '{"k":1}',
			config: '{"c":2}',
		});
		const [r] = await hook.count(1);
		if (!r) throw new Error("no callback");
		expect(r.body).toEqual({
			appId: p.app.key,
			msgId: String(sent.body.msg_ids[0]),
			from: { uid: String(p.alice), device_sn: 7 },
			to: { uid: String(p.bob) },
			type: "CHAT",
			ctype: "TEXT",
			content: "hello bot",
			ext: '{"k":1}',
			config: '{"c":2}',
			attachment: "",
			timestamp: expect.any(Number),
			is_system: false,
			related_mid: "0",
		});
		expect(r.body.timestamp).toBeGreaterThanOrEqual(before);
		expect(r.headers["content-type"]).toBe("application/json");
		expect(r.headers.signature).toBe(secret);
		expect(r.headers["x-webhook-id"]).toMatch(/^[0-9a-f]{32}$/);
		expect(r.headers["x-webhook-attempt"]).toBe("1");
		const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.headers["x-signature"] ?? "");
		expect(match).not.toBeNull();
		const [, t, v1] = match as RegExpExecArray;
		expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
		expect(v1).toBe(await hmacHex(secret, `${t}.${r.raw}`));
		expect(v1).not.toBe(await hmacHex("another-secret-0123456789", `${t}.${r.raw}`));
		expect(v1).not.toBe(await hmacHex(secret, `${t}.${r.raw} `));
	});

	it("without a secret neither signature header is sent", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "unsigned" });
		const [r] = await hook.count(1);
		expect(r?.headers.signature).toBeUndefined();
		expect(r?.headers["x-signature"]).toBeUndefined();
	});

	it("GROUPCHAT is one callback per message (not per member), to the group; notify is is_system from uid 0", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		const carol = await registerUser(p.app);
		const created = await call("/group/create", { app: p.app, token: p.aliceToken, body: { user_list: [p.bob, carol] } });
		const groupId = created.body.data.group_id as number;
		const inGroup = await send(p.app, p.aliceToken, { type: 2, targets: [groupId], content: "to all" });
		const notified = await call("/message/notify", { app: p.app, body: { type: 1, targets: [p.bob], content_type: 0, content: "system" } });
		const got = await hook.count(2);
		await new Promise((r) => setTimeout(r, 200));
		expect(got.length).toBe(2);
		const group = got.find((r) => r.body.type === "GROUPCHAT");
		expect(group?.body).toMatchObject({
			msgId: String(inGroup.body.msg_ids[0]),
			to: { uid: String(groupId) },
			from: { uid: String(p.alice) },
		});
		const system = got.find((r) => r.body.type === "CHAT");
		expect(system?.body).toMatchObject({
			msgId: String(notified.body.msg_ids[0]),
			from: { uid: "0", device_sn: 0 },
			to: { uid: String(p.bob) },
			is_system: true,
		});
	});

	it("APPEND carries the chunk, REPLACE the whole new content; RECALL and READ only when enabled; an empty APPEND is not called back", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		const sent = await send(p.app, p.aliceToken, { targets: [p.bob], content: "Hel" });
		const id = sent.body.msg_ids[0];
		const op = (content_type: number, content: string, extra: Record<string, unknown> = {}) =>
			send(p.app, p.aliceToken, { targets: [p.bob], content_type, related_mid: id, content, ...extra });
		expect((await op(11, "lo")).status).toBe(200);
		expect((await op(11, "")).status).toBe(200);
		expect((await op(12, "Hello, world", { ext: '{"done":true}' })).status).toBe(200);
		expect((await ack(p.app, p.bobToken, p.alice, id)).status).toBe(200); // READ not enabled
		const got = await hook.count(3);
		expect(got.map((r) => [r.body.type, r.body.content, r.body.msgId, r.body.related_mid])).toEqual([
			["CHAT", "Hel", String(id), "0"],
			["APPEND", "lo", String(id), String(id)],
			["REPLACE", "Hello, world", String(id), String(id)],
		]);
		expect(got[2]?.body).toMatchObject({ ext: '{"done":true}', from: { uid: String(p.alice), device_sn: 7 }, to: { uid: String(p.bob) } });

		await setSettings(p.app, { callback_events: ["CHAT", "APPEND", "REPLACE", "RECALL", "READ"] });
		const next = await send(p.app, p.aliceToken, { targets: [p.bob], content: "second" });
		const nextId = next.body.msg_ids[0];
		expect((await ack(p.app, p.bobToken, p.alice, nextId)).status).toBe(200);
		expect((await ack(p.app, p.bobToken, p.alice, nextId)).status).toBe(200); // did not move: no READ
		expect((await send(p.app, p.bobToken, { targets: [p.alice], content_type: 9, related_mid: id })).status).toBe(200); // older: no READ
		expect((await recall(p.app, p.aliceToken, p.bob, nextId)).status).toBe(200);
		expect((await recall(p.app, p.aliceToken, p.bob, nextId)).status).toBe(200); // already recalled: no second RECALL
		const all = await hook.count(6);
		await new Promise((r) => setTimeout(r, 200));
		expect(all.slice(3).map((r) => [r.body.type, r.body.msgId, r.body.from.uid, r.body.to.uid, r.body.content])).toEqual([
			["CHAT", String(nextId), String(p.alice), String(p.bob), "second"],
			["READ", String(nextId), String(p.bob), String(p.alice), ""],
			["RECALL", String(nextId), String(p.alice), String(p.bob), ""],
		]);
		expect(all.length).toBe(6);
	});
});

describe("delivery: order, retries, dead letters, redelivery", () => {
	it("concurrent sends: every callback once, each conversation's in commit (msgId) order", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		const carol = await registerUser(p.app);
		const sends = [
			...Array.from({ length: 60 }, (_, i) => send(p.app, p.aliceToken, { targets: [p.bob], content: `b${i}` })),
			...Array.from({ length: 40 }, (_, i) => send(p.app, p.aliceToken, { targets: [carol], content: `c${i}` })),
		];
		const replies = await Promise.all(sends);
		expect(replies.every((r) => r.status === 200)).toBe(true);
		const got = await hook.count(100, 20_000);
		await new Promise((r) => setTimeout(r, 200));
		expect(got.length).toBe(100);
		for (const peer of [p.bob, carol]) {
			const ids = got.filter((r) => r.body.to.uid === String(peer)).map((r) => Number(r.body.msgId));
			expect(ids).toEqual([...ids].sort((a, b) => a - b));
			expect(new Set(ids).size).toBe(ids.length);
		}
		expect(new Set(got.map((r) => r.headers["x-webhook-id"])).size).toBe(100);
	});

	it("conversations do not wait for each other: while one conversation's receiver hangs, another's callbacks arrive", async () => {
		let release = () => {};
		const hanging = new Promise<void>((resolve) => {
			release = resolve;
		});
		const hook = receiver(async (r) => {
			if (r.body.content === "stuck") await hanging;
			return new Response("ok");
		});
		const p = await pair({ callback_url: hook.url });
		const carol = await registerUser(p.app);
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "stuck" });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "behind the stuck one" });
		await hook.count(1);
		for (let i = 0; i < 5; i++) await send(p.app, p.aliceToken, { targets: [carol], content: `free ${i}` });
		const got = await hook.count(6);
		expect(got.map((r) => r.body.content)).toEqual(["stuck", "free 0", "free 1", "free 2", "free 3", "free 4"]);
		release();
		expect((await hook.count(7)).at(-1)?.body.content).toBe("behind the stuck one");
	});

	it("backoff: 1 s doubling with ±20 % jitter, capped at 10 min", () => {
		expect([1, 2, 3, 4].map((n) => backoffMs(n, 0.5))).toEqual([1000, 2000, 4000, 8000]);
		expect(backoffMs(1, 0)).toBe(800);
		expect(backoffMs(1, 1)).toBe(1200);
		expect(backoffMs(10, 0.5)).toBe(512_000);
		expect(backoffMs(11, 1)).toBe(600_000);
		expect(backoffMs(50, 0)).toBe(480_000);
		for (let n = 1; n <= 40; n++) expect(backoffMs(n, Math.random())).toBeLessThanOrEqual(600_000);
	});

	it("a receiver failing twice then answering 200: three attempts, one webhook id, attempt 1-2-3, waits by the backoff (injected clock)", async () => {
		const hook = receiver((_, n) => new Response("busy", { status: n <= 2 ? 503 : 200 }));
		const p = await pair({ callback_url: hook.url });
		const stub = conversationObject(env, p.app.appId, pairKey(p.alice, p.bob));
		advanceClock(0);
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "retry me" });
		await hook.count(1);
		const [afterFirst] = await waitForRow(p.app.appId, (rows) => rows[0]?.attempts === 1);
		const firstDelay = afterFirst?.next_attempt_at - (hook.received[0]?.at ?? 0) - offset;
		expect(firstDelay).toBeGreaterThanOrEqual(700);
		expect(firstDelay).toBeLessThanOrEqual(1300);
		expect(afterFirst).toMatchObject({ state: "pending", last_status: 503, last_error: "The receiver answered 503." });

		// Not due yet: running the alarm early sends nothing.
		await runDurableObjectAlarm(stub);
		expect(hook.received.length).toBe(1);
		advanceClock(1_300);
		await runDurableObjectAlarm(stub);
		await hook.count(2);
		const [afterSecond] = await waitForRow(p.app.appId, (rows) => rows[0]?.attempts === 2);
		expect(afterSecond?.next_attempt_at - clock.now()).toBeGreaterThan(1_000);
		advanceClock(2_500);
		await runDurableObjectAlarm(stub);
		await hook.count(3);
		await recordDelivered(stub);
		await waitForRow(p.app.appId, (rows) => rows.length === 0); // delivered: nothing left to do, the row is gone
		expect(hook.received.map((r) => r.headers["x-webhook-attempt"])).toEqual(["1", "2", "3"]);
		expect(new Set(hook.received.map((r) => r.headers["x-webhook-id"])).size).toBe(1);
		expect(new Set(hook.received.map((r) => r.raw)).size).toBe(1);
	});

	it("a timeout or connection error counts as a failed attempt", async () => {
		const hook = receiver(() => {
			throw new DOMException("The operation timed out.", "TimeoutError");
		});
		const p = await pair({ callback_url: hook.url, callback_max_attempts: 1 });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "slow receiver" });
		const [row] = await waitForRow(p.app.appId, (rows) => rows[0]?.state === "dead");
		expect(row).toMatchObject({ attempts: 1, last_status: null, last_error: "No answer within 10 s." });
		hook.answerWith(() => {
			throw new TypeError("connect ECONNREFUSED");
		});
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "no receiver" });
		const rows = await waitForRow(p.app.appId, (all) => all[1]?.state === "dead");
		expect(rows[1]?.last_error).toBe("Could not connect: connect ECONNREFUSED");
		// A redirect is an answer other than 2xx: not followed (it could point anywhere).
		hook.answerWith(() => new Response(null, { status: 302, headers: { location: "http://10.0.0.1/" } }));
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "redirected" });
		const redirected = await waitForRow(p.app.appId, (all) => all[2]?.state === "dead");
		expect(redirected[2]).toMatchObject({ last_status: 302, last_error: "The receiver answered 302." });
		expect(vi.mocked(transport.post).mock.calls.at(-1)?.[1]).toMatchObject({ redirect: "manual" });
	});

	it("dead-lettered after callback_max_attempts; the conversation's next callback waits for it; listed newest first; redelivered in order", async () => {
		const hook = receiver(() => new Response("down", { status: 500 }));
		const p = await pair({ callback_url: hook.url, callback_max_attempts: 2 });
		const stub = conversationObject(env, p.app.appId, pairKey(p.alice, p.bob));
		advanceClock(0);
		const first = await send(p.app, p.aliceToken, { targets: [p.bob], content: "one" });
		const second = await send(p.app, p.aliceToken, { targets: [p.bob], content: "two" });
		await hook.count(1);
		await waitForRow(p.app.appId, (rows) => rows[0]?.attempts === 1);
		expect(hook.received.every((r) => r.body.content === "one")).toBe(true); // "two" waits behind "one"
		advanceClock(2_000);
		await runDurableObjectAlarm(stub); // "one": attempt 2, dead; then "two": attempt 1
		await waitForRow(p.app.appId, (rows) => rows[0]?.state === "dead" && rows[1]?.attempts === 1);
		advanceClock(2_000);
		await runDurableObjectAlarm(stub); // "two": attempt 2, dead
		await waitForRow(p.app.appId, (rows) => rows.every((r) => r.state === "dead"));
		expect(hook.received.map((r) => r.body.content)).toEqual(["one", "one", "two", "two"]);

		const failed = await call("/app/callbacks/failed", { app: p.app, query: { limit: 1 } });
		expect(failed.status).toBe(200);
		const rows = await outbox(p.app.appId);
		expect(failed.body.data).toEqual([
			{
				webhook_id: rows[1]?.webhook_id,
				msg_id: second.body.msg_ids[0],
				type: "CHAT",
				attempts: 2,
				last_status: 500,
				last_error: "The receiver answered 500.",
				failed_at: rows[1]?.settled_at,
			},
		]);
		const page2 = await call("/app/callbacks/failed", { app: p.app, query: { limit: 1, cursor: failed.body.cursor } });
		expect(page2.body.data.map((d: any) => d.msg_id)).toEqual([first.body.msg_ids[0]]);
		expect(page2.body.cursor).toBe("");

		// Receiver recovers; redelivering both (named newest first) sends them in their original order.
		hook.answerWith(() => new Response("ok"));
		resetClock();
		const redelivered = await call("/app/callbacks/redeliver", {
			app: p.app,
			body: { webhook_ids: [rows[1]?.webhook_id, rows[0]?.webhook_id, "0".repeat(32)] },
		});
		expect(redelivered.body.data).toEqual({ queued: 2 });
		await hook.count(6);
		await recordDelivered(stub);
		await waitForRow(p.app.appId, (all) => all.length === 0);
		expect(hook.received.slice(4).map((r) => [r.body.content, r.headers["x-webhook-attempt"]])).toEqual([
			["one", "1"],
			["two", "1"],
		]);
		expect((await call("/app/callbacks/failed", { app: p.app })).body.data).toEqual([]);
	});

	it("redeliver {all: true}, and only for the app's own dead letters; admin only; bad bodies are 400", async () => {
		const hook = receiver(() => new Response("down", { status: 500 }));
		const p = await pair({ callback_url: hook.url, callback_max_attempts: 1 });
		const other = await pair({ callback_url: hook.url, callback_max_attempts: 1 });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "mine" });
		await send(other.app, other.aliceToken, { targets: [other.bob], content: "theirs" });
		await waitForRow(p.app.appId, (rows) => rows[0]?.state === "dead");
		await waitForRow(other.app.appId, (rows) => rows[0]?.state === "dead");
		const theirs = (await outbox(other.app.appId))[0]?.webhook_id;
		expect((await call("/app/callbacks/redeliver", { app: p.app, body: { webhook_ids: [theirs] } })).body.data).toEqual({ queued: 0 });
		expect((await call("/app/callbacks/redeliver", { app: p.app, token: p.aliceToken, body: { all: true } })).status).toBe(403);
		expect((await call("/app/callbacks/failed", { app: p.app, token: p.aliceToken })).status).toBe(403);
		for (const body of [{ all: "yes" }, { webhook_ids: ["nope"] }, { webhook_ids: "x" }, { everything: true }]) {
			expect((await call("/app/callbacks/redeliver", { app: p.app, body })).status, JSON.stringify(body)).toBe(400);
		}
		hook.answerWith(() => new Response("ok"));
		expect((await call("/app/callbacks/redeliver", { app: p.app, body: { all: true } })).body.data).toEqual({ queued: 1 });
		await hook.count(3); // "mine" and "theirs" failed; "mine" again
		await recordDelivered(conversationObject(env, p.app.appId, pairKey(p.alice, p.bob)));
		await waitForRow(p.app.appId, (rows) => rows.length === 0);
		expect((await outbox(other.app.appId))[0]?.state).toBe("dead");
	});

	it("callbacks owed while the app has no callback_url any more are dead-lettered, not dropped", async () => {
		const hook = receiver(() => new Response("down", { status: 500 }));
		const p = await pair({ callback_url: hook.url });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "owed" });
		await waitForRow(p.app.appId, (rows) => rows[0]?.attempts === 1);
		await setSettings(p.app, { callback_url: "" });
		advanceClock(2_000);
		await runDurableObjectAlarm(conversationObject(env, p.app.appId, pairKey(p.alice, p.bob)));
		const [row] = await waitForRow(p.app.appId, (rows) => rows[0]?.state === "dead");
		expect(row?.last_error).toBe("The app has no callback_url.");
	});
});

describe("delivered callbacks are recorded in D1 together; a crash loses none", () => {
	it("a busy conversation records (deletes) its delivered callbacks in its next send's own batch (no write of their own)", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		await send(p.app, p.aliceToken, { targets: [p.bob], content: "first" });
		await hook.count(1);
		await new Promise((r) => setTimeout(r, 50));
		expect((await outbox(p.app.appId))[0]?.state).toBe("pending");
		const m = meter();
		try {
			await send(p.app, p.aliceToken, { targets: [p.bob], content: "second" });
			expect(m.cost.d1).toBe(1);
		} finally {
			m.stop();
		}
		// The first is gone (delivered and recorded); the second waits for its own recording.
		expect((await outbox(p.app.appId)).map((r) => r.content)).toEqual(["second"]);
	});

	it("delivered callbacks are recorded (deleted) a few seconds later in one write; a fresh instance (after a crash) loses none, and sends again, with the same webhook ids, only those not yet recorded", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		const stub = conversationObject(env, p.app.appId, pairKey(p.alice, p.bob));
		for (const content of ["a", "b", "c"]) await send(p.app, p.aliceToken, { targets: [p.bob], content });
		await hook.count(3);
		// The last is delivered after the last write: D1 still holds it as owed (earlier ones may have been
		// recorded by the writes that followed them: those statements ride in the send's own batch).
		expect((await outbox(p.app.appId)).map((r) => r.state).at(-1)).toBe("pending");
		// The object records the rest in one write when its alarm comes (the clock moved past the delay).
		await recordDelivered(stub);
		expect(await outbox(p.app.appId)).toEqual([]);
		resetClock();

		// Two more delivered, then the object is lost before recording them: what a fresh instance does when
		// its alarm fires (nothing in memory) is to send again exactly those not recorded, same ids, in order.
		for (const content of ["d", "e"]) await send(p.app, p.aliceToken, { targets: [p.bob], content });
		await hook.count(5);
		const unrecorded = (await outbox(p.app.appId)).filter((r) => r.state === "pending").map((r) => r.webhook_id);
		expect(unrecorded.length).toBeGreaterThanOrEqual(1);
		await runInDurableObject(stub, async (_object, state) => {
			await new CallbackDrainer(state.storage, async () => database(env.DB), true).onAlarm();
		});
		const all = await hook.count(5 + unrecorded.length);
		await new Promise((r) => setTimeout(r, 200));
		expect(all.length).toBe(5 + unrecorded.length);
		expect(all.slice(0, 5).map((r) => r.body.content)).toEqual(["a", "b", "c", "d", "e"]);
		expect(all.slice(5).map((r) => r.headers["x-webhook-id"])).toEqual(unrecorded);
	});
});

describe("the schedule: sweep and purge", () => {
	it("a callback owed without a wake-up (the process died after the commit) is delivered by the Cron Trigger's sweep", async () => {
		const hook = receiver();
		const p = await pair({ callback_url: hook.url });
		const created = await call("/group/create", { app: p.app, token: p.aliceToken, body: { user_list: [p.bob] } });
		const groupId = created.body.data.group_id as number;
		const key = groupKey(groupId);
		// A message and its outbox row as a commit leaves them, but no alarm was ever set.
		const old = Date.now() - 120_000;
		const msg = await env.DB.prepare(
			`INSERT INTO messages (app_id, conversation_key, type, content_type, content, attachment, config, ext, from_uid, from_device_sn, to_uid, timestamp)
			VALUES (?, ?, 2, 0, 'orphan', '', '', '', ?, 0, ?, ?) RETURNING id`,
		)
			.bind(p.app.appId, key, p.alice, groupId, old)
			.first<{ id: number }>();
		await env.DB.prepare(
			`INSERT INTO callback_outbox (app_id, conversation_key, webhook_id, event, msg_id, related_mid, from_uid, from_device_sn, to_uid,
				content_type, content, ext, config, attachment, timestamp, is_system, state, attempts, next_attempt_at, created_at)
			VALUES (?, ?, lower(hex(randomblob(16))), 'GROUPCHAT', ?, 0, ?, 0, ?, 0, 'orphan', '', '', '', ?, 0, 'pending', 0, ?, ?)`,
		)
			.bind(p.app.appId, key, msg?.id, p.alice, groupId, old, old, old)
			.run();
		await new Promise((r) => setTimeout(r, 300));
		expect(hook.received).toEqual([]);
		await runSchedule();
		const [r] = await hook.count(1);
		expect(r?.body).toMatchObject({ type: "GROUPCHAT", msgId: String(msg?.id), content: "orphan", to: { uid: String(groupId) } });
	});

	it("the schedule purges dead letters after 30 days and dedupe rows after their window; delivered callbacks are deleted as they are recorded", async () => {
		const app = await createApp();
		const now = Date.now();
		const row = (state: string, settledAt: number | null) =>
			env.DB.prepare(
				`INSERT INTO callback_outbox (app_id, conversation_key, webhook_id, event, msg_id, related_mid, from_uid, from_device_sn, to_uid,
					content_type, content, ext, config, attachment, timestamp, is_system, state, attempts, next_attempt_at, settled_at, created_at)
				VALUES (?, 'p:1:2', lower(hex(randomblob(16))), 'CHAT', 1, 0, 1, 0, 2, 0, '', '', '', '', 0, 0, ?, 1, ?, ?, ?)`,
			).bind(app.appId, state, now + 3_600_000, settledAt, now);
		await env.DB.batch([row("dead", now - 31 * 24 * 3_600_000), row("dead", now - 24 * 3_600_000), row("pending", null)]);
		const dedupe = (createdAt: number, txn: number) =>
			env.DB.prepare(
				"INSERT INTO send_dedupe (app_id, sender_id, transaction_id, target_id, msg_id, body_hash, created_at) VALUES (?, 1, ?, 2, 1, 'h', ?)",
			).bind(app.appId, txn, createdAt);
		await env.DB.batch([dedupe(now - 25 * 3_600_000, 1), dedupe(now - 3_600_000, 2)]);
		await runSchedule();
		const left = await outbox(app.appId);
		expect(left.map((r) => [r.state, r.settled_at])).toEqual([
			["dead", now - 24 * 3_600_000],
			["pending", null],
		]);
		const txns = await env.DB.prepare("SELECT transaction_id FROM send_dedupe WHERE app_id = ?").bind(app.appId).all();
		expect(txns.results).toEqual([{ transaction_id: 2 }]);
	});
});
