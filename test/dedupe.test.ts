import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { replayKey } from "../src/dedupe/replay";
import { allMessages, call, createApp, registerUser, send, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let carol: number;
let dave: number;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
	app = await createApp();
	[alice, bob, carol, dave] = [await registerUser(app), await registerUser(app), await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
	bobToken = await userToken(app, bob);
});

afterEach(() => vi.restoreAllMocks());

const countContent = async (token: string, peer: number, content: string) =>
	(await allMessages(app, token, peer)).filter((m) => m.content === content).length;

describe("POST /message/send with transaction_id", () => {
	it("a repeat gets the first response (same msg_ids) with idempotent-replayed, and sends nothing", async () => {
		const first = await send(app, aliceToken, { transaction_id: 1, targets: [bob, carol], content: "once" });
		expect(first.status).toBe(200);
		expect(first.headers.get("idempotent-replayed")).toBeNull();
		const again = await send(app, aliceToken, { transaction_id: "1", targets: [bob, carol], content: "once" });
		expect(again.status).toBe(200);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(again.body).toEqual(first.body);
		expect(await countContent(bobToken, alice, "once")).toBe(1);
	});

	it("the same id with a different body is 409", async () => {
		await send(app, aliceToken, { transaction_id: 2, targets: [bob], content: "original" });
		const reply = await send(app, aliceToken, { transaction_id: 2, targets: [bob], content: "changed" });
		expect(reply.status).toBe(409);
		expect(reply.body.message).toBe("transaction_id was already used for a different request.");
		expect(await countContent(bobToken, alice, "changed")).toBe(0);
	});

	it("the D1 key is the authority when KV has not seen the transaction (stale or lost cache)", async () => {
		const first = await send(app, aliceToken, { transaction_id: 3, targets: [bob], content: "kv-miss" });
		await env.DEDUPE.delete(replayKey(app.appId, alice, "3"));
		const again = await send(app, aliceToken, { transaction_id: 3, targets: [bob], content: "kv-miss" });
		expect(again.status).toBe(200);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(again.body.msg_ids).toEqual(first.body.msg_ids);
		await env.DEDUPE.delete(replayKey(app.appId, alice, "3"));
		const changed = await send(app, aliceToken, { transaction_id: 3, targets: [bob], content: "kv-miss but different" });
		expect(changed.status).toBe(409);
		expect(await countContent(bobToken, alice, "kv-miss")).toBe(1);
	});

	it("a KV failure never fails the request", async () => {
		vi.spyOn(env.DEDUPE, "get").mockRejectedValue(new Error("KV down"));
		vi.spyOn(env.DEDUPE, "put").mockRejectedValue(new Error("KV down"));
		const first = await send(app, aliceToken, { transaction_id: 4, targets: [bob], content: "kv-down" });
		const again = await send(app, aliceToken, { transaction_id: 4, targets: [bob], content: "kv-down" });
		expect([first.status, again.status]).toEqual([200, 200]);
		expect(again.body.msg_ids).toEqual(first.body.msg_ids);
		expect(await countContent(bobToken, alice, "kv-down")).toBe(1);
	});

	it("20 identical requests in flight at once execute exactly once", async () => {
		const replies = await Promise.all(
			Array.from({ length: 20 }, () => send(app, aliceToken, { transaction_id: 5, targets: [bob, carol], content: "storm" })),
		);
		expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
		const ids = replies.map((r) => JSON.stringify(r.body.msg_ids));
		expect(new Set(ids).size).toBe(1);
		expect(replies.filter((r) => r.headers.get("idempotent-replayed") === null)).toHaveLength(1);
		expect(await countContent(bobToken, alice, "storm")).toBe(1);
		const carolToken = await userToken(app, carol);
		expect(await countContent(carolToken, alice, "storm")).toBe(1);
	});

	it("the scope is (app, sender, transaction_id): another sender may use the same id", async () => {
		const a = await send(app, aliceToken, { transaction_id: 6, targets: [carol], content: "scoped" });
		const b = await send(app, bobToken, { transaction_id: 6, targets: [carol], content: "scoped" });
		expect(b.status).toBe(200);
		expect(b.headers.get("idempotent-replayed")).toBeNull();
		expect(b.body.msg_ids).not.toEqual(a.body.msg_ids);
	});

	it("after the dedupe window the same id is a new request", async () => {
		const first = await send(app, aliceToken, { transaction_id: 7, targets: [bob], content: "window" });
		await env.DEDUPE.delete(replayKey(app.appId, alice, "7")); // KV's TTL would have expired it too
		const later = Date.now() + 24 * 3600 * 1000 + 1000;
		vi.spyOn(clock, "now").mockReturnValue(later);
		const again = await send(app, aliceToken, { transaction_id: 7, targets: [bob], content: "window" });
		expect(again.status).toBe(200);
		expect(again.headers.get("idempotent-replayed")).toBeNull();
		expect(again.body.msg_ids[0]).toBeGreaterThan(first.body.msg_ids[0]);
		expect(await countContent(bobToken, alice, "window")).toBe(2);
	});

	it("KV remembers a transaction only with a TTL: the dedupe window", async () => {
		const put = vi.spyOn(env.DEDUPE, "put");
		await send(app, aliceToken, { transaction_id: 8, targets: [bob], content: "ttl" });
		expect(put).toHaveBeenCalledWith(replayKey(app.appId, alice, "8"), expect.any(String), { expirationTtl: 24 * 3600 });
	});
});

describe("one transaction_id names one request, whatever its targets", () => {
	/** KV as it is in another location or after eviction: it has seen nothing (it may only save work, never decide). */
	const blindKv = { get: async () => null, put: async () => undefined } as unknown as KVNamespace;
	const sendBlind = (body: Record<string, unknown>) =>
		call("/message/send", { app, token: aliceToken, body: { type: 1, content_type: 0, ...body }, env: { ...env, DEDUPE: blindKv } });
	const users = () => ({ bob, carol, dave });
	type Name = keyof ReturnType<typeof users>;

	it.each<[string, Name[], Name[]]>([
		["other", ["bob"], ["carol"]],
		["fewer", ["bob", "carol"], ["bob"]],
		["more", ["bob"], ["bob", "carol"]],
		["overlapping", ["bob", "carol"], ["carol", "dave"]],
	])("%s targets under the same id: 409, and none of them is written, also when KV has not seen the first", async (how, first, second) => {
		const id = `51${first.length}${second.length}${how.length}`;
		const content = `one request ${how}`;
		const ids = (names: Name[]) => names.map((n) => users()[n]);
		expect((await sendBlind({ transaction_id: id, targets: ids(first), content })).status).toBe(200);
		const before = await snapshot();
		const reply = await sendBlind({ transaction_id: id, targets: ids(second), content });
		expect(reply.status).toBe(409);
		expect(reply.body.message).toBe("transaction_id was already used for a different request.");
		expect(await snapshot()).toBe(before);
		// The first request is still answered as itself.
		const again = await sendBlind({ transaction_id: id, targets: ids(first), content });
		expect(again.headers.get("idempotent-replayed")).toBe("true");
	});

	it("after the dedupe window, the id may name a request with other targets", async () => {
		// (Not to bob: an earlier test moved the clock of alice and bob's conversation ahead.)
		expect((await sendBlind({ transaction_id: 5300, targets: [carol], content: "old request" })).status).toBe(200);
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 24 * 3600 * 1000 + 1000);
		const reply = await sendBlind({ transaction_id: 5300, targets: [dave], content: "new request" });
		expect(reply.status).toBe(200);
		expect(reply.headers.get("idempotent-replayed")).toBeNull();
		expect(await countContent(await userToken(app, dave), alice, "new request")).toBe(1);
	});

	it("two different requests with one id racing, KV blind: exactly one executes, the other writes none of its targets", async () => {
		for (let round = 0; round < 8; round++) {
			const id = 5200 + round;
			const [a, b] = await Promise.all([
				sendBlind({ transaction_id: id, targets: [bob, carol], content: `race ${id} a` }),
				sendBlind({ transaction_id: id, targets: [carol, dave], content: `race ${id} b` }),
			]);
			expect([a.status, b.status].sort()).toEqual([200, 409]);
			const [winner, loser] = a.status === 200 ? ["a", "b"] : ["b", "a"];
			const carolToken = await userToken(app, carol);
			const daveToken = await userToken(app, dave);
			const counts = {
				bob: await countContent(bobToken, alice, `race ${id} ${loser}`),
				carol: await countContent(carolToken, alice, `race ${id} ${loser}`),
				dave: await countContent(daveToken, alice, `race ${id} ${loser}`),
			};
			expect(counts).toEqual({ bob: 0, carol: 0, dave: 0 });
			expect(await countContent(carolToken, alice, `race ${id} ${winner}`)).toBe(1);
		}
	});
});

describe("transaction_id is an int64 kept by its exact digits", () => {
	/** A send whose body is JSON text, so that numbers beyond 2^53 travel with every digit. */
	const sendRaw = (json: string) =>
		call("/message/send", { app, token: aliceToken, rawBody: json, headers: { "content-type": "application/json" } });
	const body = (transactionId: string, content: string) =>
		`{"transaction_id": ${transactionId}, "type": 1, "targets": [${bob}], "content_type": 0, "content": ${JSON.stringify(content)}}`;

	it("2^62 and 2^62+1 sent as JSON numbers are two transactions, also when KV has not seen them", async () => {
		const first = await sendRaw(body("4611686018427387904", "int64 a"));
		const second = await sendRaw(body("4611686018427387905", "int64 a"));
		expect([first.status, second.status]).toEqual([200, 200]);
		expect(second.headers.get("idempotent-replayed")).toBeNull();
		expect(second.body.msg_ids).not.toEqual(first.body.msg_ids);
		// The D1 authority tells them apart too: without KV, each repeat gets its own first answer.
		for (const id of ["4611686018427387904", "4611686018427387905"]) await env.DEDUPE.delete(replayKey(app.appId, alice, id));
		const again = await sendRaw(body("4611686018427387905", "int64 a"));
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(again.body.msg_ids).toEqual(second.body.msg_ids);
		expect(await countContent(bobToken, alice, "int64 a")).toBe(2);
		const stored = await env.DB.prepare(
			"SELECT CAST(transaction_id AS TEXT) AS id, typeof(transaction_id) AS type FROM send_dedupe WHERE app_id = ? AND sender_id = ? AND transaction_id > 4611686018427387000 ORDER BY transaction_id",
		)
			.bind(app.appId, alice)
			.all<{ id: string; type: string }>();
		expect(stored.results).toEqual([
			{ id: "4611686018427387904", type: "integer" },
			{ id: "4611686018427387905", type: "integer" },
		]);
	});

	it("a number and its decimal string are the same transaction; 2^63-1 and -2^63 are valid", async () => {
		const asNumber = await sendRaw(body("9223372036854775807", "int64 max"));
		const asString = await sendRaw(body('"9223372036854775807"', "int64 max"));
		expect(asString.headers.get("idempotent-replayed")).toBe("true");
		expect(asString.body.msg_ids).toEqual(asNumber.body.msg_ids);
		expect((await sendRaw(body("-9223372036854775808", "int64 min"))).status).toBe(200);
	});

	it("a negative id dedupes", async () => {
		const first = await sendRaw(body("-1", "negative id"));
		const again = await sendRaw(body("-1", "negative id"));
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(again.body.msg_ids).toEqual(first.body.msg_ids);
		expect(await countContent(bobToken, alice, "negative id")).toBe(1);
	});

	it("0 means none: it never dedupes", async () => {
		await sendRaw(body("0", "zero id"));
		const again = await sendRaw(body('"0"', "zero id"));
		expect(again.headers.get("idempotent-replayed")).toBeNull();
		expect(await countContent(bobToken, alice, "zero id")).toBe(2);
	});

	it.each(["9223372036854775808", "-9223372036854775809", "1.5", '"1e3"', '""', "true"])(
		"transaction_id %s is 400 naming it, and nothing is sent",
		async (value) => {
			const reply = await sendRaw(body(value, `bad id ${value}`));
			expect(reply.status).toBe(400);
			expect(reply.body.message).toBe('Field "transaction_id" must be an integer from -2^63 to 2^63-1.');
			expect(await countContent(bobToken, alice, `bad id ${value}`)).toBe(0);
		},
	);
});
