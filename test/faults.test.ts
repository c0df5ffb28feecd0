import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Conversation } from "../src/conversation/Conversation";
import { conversationObject, pairKey } from "../src/conversation/key";
import { MAX_QUEUED_WRITES } from "../src/limits";
import {
	allMessages,
	call,
	createApp,
	d1Sessions,
	directSend,
	registerUser,
	send,
	snapshot,
	type TestApp,
	unreadOf,
	userToken,
} from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let carol: number;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
	app = await createApp();
	[alice, bob, carol] = [await registerUser(app), await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
	bobToken = await userToken(app, bob);
});

afterEach(() => vi.restoreAllMocks());

type Statement = { statement: string; params: unknown[] };
const d1 = d1Sessions;
const realBatch = d1.batch;
const touches = (statements: unknown[], conversationKey: string) =>
	(statements as Statement[]).some((s) => s.params?.includes(conversationKey));

/** Makes D1 batches that write `conversationKey` fail, before or after committing. */
function failBatches(conversationKey: string, when: "before-commit" | "after-commit", times = 1) {
	let left = times;
	return vi.spyOn(d1, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
		if (left > 0 && touches(statements, conversationKey)) {
			left--;
			if (when === "after-commit") await realBatch.call(this, statements);
			throw new Error("D1_ERROR: Network connection lost.");
		}
		return realBatch.call(this, statements);
	});
}

const unread = (userId: number, peerId: number) => unreadOf(app, userId, peerId);

describe("POST /message/send under D1 faults", () => {
	it("a batch that fails before commit: 503 with Retry-After, nothing written, retry with the transaction_id sends once", async () => {
		const before = await snapshot();
		failBatches(pairKey(alice, bob), "before-commit");
		const failed = await send(app, aliceToken, { transaction_id: 101, targets: [bob], content: "one" });
		expect(failed.status).toBe(503);
		expect(failed.headers.get("retry-after")).toBe("1");
		expect(failed.body).toMatchObject({ code: 503, data: { failed: [bob] }, msg_ids: [0] });
		expect(await snapshot()).toBe(before);

		const retried = await send(app, aliceToken, { transaction_id: 101, targets: [bob], content: "one" });
		expect(retried.status).toBe(200);
		const again = await send(app, aliceToken, { transaction_id: 101, targets: [bob], content: "one" });
		expect(again.body.msg_ids).toEqual(retried.body.msg_ids);
		const seen = await allMessages(app, bobToken, alice);
		expect(seen.filter((m) => m.content === "one")).toHaveLength(1);
		expect(await unread(bob, alice)).toBe(1);
	});

	it("a batch that commits and then throws: 503, and the retry answers the committed message without sending again", async () => {
		const unreadBefore = await unread(bob, alice);
		failBatches(pairKey(alice, bob), "after-commit");
		const failed = await send(app, aliceToken, { transaction_id: 102, targets: [bob], content: "two" });
		expect(failed.status).toBe(503);

		const retried = await send(app, aliceToken, { transaction_id: 102, targets: [bob], content: "two" });
		expect(retried.status).toBe(200);
		expect(retried.headers.get("idempotent-replayed")).toBe("true");
		const seen = await allMessages(app, bobToken, alice);
		const two = seen.filter((m) => m.content === "two");
		expect(two).toHaveLength(1);
		expect(retried.body.msg_ids).toEqual([two[0].msg_id]);
		expect(await unread(bob, alice)).toBe(unreadBefore + 1);
	});

	it("one target failing: 503 naming it, msg_ids 0 for it; the retry completes it without duplicating the others", async () => {
		failBatches(pairKey(alice, carol), "before-commit");
		const partial = await send(app, aliceToken, { transaction_id: 103, targets: [bob, carol], content: "three" });
		expect(partial.status).toBe(503);
		expect(partial.body.data).toEqual({ failed: [carol] });
		const [toBob, toCarol] = partial.body.msg_ids;
		expect(toBob).toBeGreaterThan(0);
		expect(toCarol).toBe(0);

		const retried = await send(app, aliceToken, { transaction_id: 103, targets: [bob, carol], content: "three" });
		expect(retried.status).toBe(200);
		expect(retried.body.msg_ids[0]).toBe(toBob);
		expect(retried.body.msg_ids[1]).toBeGreaterThan(0);
		const carolToken = await userToken(app, carol);
		expect((await allMessages(app, bobToken, alice)).filter((m) => m.content === "three")).toHaveLength(1);
		expect((await allMessages(app, carolToken, alice)).filter((m) => m.content === "three")).toHaveLength(1);
	});

	it("after a partial failure, the same id with other targets is 409 and writes nothing; the first request then completes", async () => {
		failBatches(pairKey(alice, carol), "before-commit");
		const partial = await send(app, aliceToken, { transaction_id: 104, targets: [bob, carol], content: "four" });
		expect(partial.status).toBe(503);

		const before = await snapshot();
		const other = await send(app, aliceToken, { transaction_id: 104, targets: [carol], content: "four" });
		expect(other.status).toBe(409);
		expect(await snapshot()).toBe(before);

		const retried = await send(app, aliceToken, { transaction_id: 104, targets: [bob, carol], content: "four" });
		expect(retried.status).toBe(200);
		expect(retried.body.msg_ids[0]).toBe(partial.body.msg_ids[0]);
		const carolToken = await userToken(app, carol);
		expect((await allMessages(app, carolToken, alice)).filter((m) => m.content === "four")).toHaveLength(1);
	});

	it("a send without transaction_id that fails before commit leaves nothing behind", async () => {
		const before = await snapshot();
		failBatches(pairKey(alice, bob), "before-commit");
		const failed = await send(app, aliceToken, { targets: [bob], content: "lost" });
		expect(failed.status).toBe(503);
		expect(await snapshot()).toBe(before);
	});
});

describe("Conversation Durable Object eviction", () => {
	it("evicting the object between sends loses nothing and reuses no id", async () => {
		const stub = conversationObject(env, app.appId, pairKey(alice, bob));
		const ids: number[] = [];
		for (let i = 0; i < 6; i++) {
			const reply = await send(app, i % 2 ? bobToken : aliceToken, { targets: [i % 2 ? alice : bob], content: `evict ${i}` });
			expect(reply.status).toBe(200);
			ids.push(reply.body.msg_ids[0]);
			await evictDurableObject(stub);
		}
		for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] as number);
		const seen = (await allMessages(app, bobToken, alice)).map((m) => m.msg_id);
		for (const id of ids) expect(seen.filter((s) => s === id)).toHaveLength(1);
	});
});

describe("a failing Durable Object call is 503 with Retry-After at every call site, never 500", () => {
	/** Every call to a conversation object throws, as a stub does when the object cannot be reached. */
	function unreachableObjects() {
		const namespace = env.CONVERSATION;
		const real = namespace.getByName.bind(namespace);
		return vi.spyOn(namespace, "getByName").mockImplementation((name: string) => {
			const stub = real(name);
			return new Proxy(stub, {
				get(target, property) {
					const value = Reflect.get(target, property);
					if (typeof value !== "function" || property === "then") return value;
					return () => Promise.reject(new Error("Network connection lost."));
				},
			});
		});
	}

	it("send, group send, operation, ack, delete, recall, invite, kick, leave, destroy", async () => {
		const [sent] = (await send(app, aliceToken, { targets: [bob], content: "before the outage" })).body.msg_ids;
		const created = await call("/group/create", { app, token: aliceToken, body: { user_list: [bob] } });
		const group = created.body.data.group_id as number;
		const before = await snapshot();
		unreachableObjects();
		const sites: [string, () => Promise<{ status: number; headers: Headers; body: any }>][] = [
			["send", () => send(app, aliceToken, { targets: [bob], content: "x" })],
			["group send", () => send(app, aliceToken, { type: 2, targets: [group], content: "x" })],
			["APPEND", () => send(app, aliceToken, { targets: [bob], content_type: 11, related_mid: sent, content: "x" })],
			["READ_ACK", () => send(app, bobToken, { targets: [alice], content_type: 9, related_mid: sent })],
			["ack", () => call("/message/ack", { app, token: bobToken, query: { conversation_id: alice, msg_id: sent } })],
			["delete", () => call("/message/conversation", { app, token: bobToken, method: "DELETE", query: { conversation_id: alice } })],
			["recall", () => call("/message/recall", { app, token: aliceToken, body: { conversation_id: bob, msg_id: sent } })],
			["invite", () => call("/group/invite", { app, token: aliceToken, body: { group_id: group, user_list: [carol] } })],
			["kick", () => call("/group/kick", { app, token: aliceToken, body: { group_id: group, user_list: [bob] } })],
			["leave", () => call("/group/leave", { app, token: bobToken, method: "POST", query: { group_id: group } })],
			["destroy", () => call("/group/destroy", { app, token: aliceToken, method: "POST", query: { group_id: group } })],
		];
		for (const [name, request] of sites) {
			const reply = await request();
			expect(reply.status, name).toBe(503);
			expect(reply.headers.get("retry-after"), name).toBe("1");
			expect(reply.body.code, name).toBe(503);
		}
		vi.restoreAllMocks();
		expect(await snapshot()).toBe(before);
	});
});

describe("storage errors: a retry that can help is 503, one that cannot is 500; logs carry no parameters", () => {
	const statement = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as D1PreparedStatement;

	/** Makes every single-statement D1 call fail with `message` (drizzle wraps it with the SQL and its parameters). */
	function failStatements(message: string) {
		for (const name of ["all", "run", "raw", "first"] as const) {
			vi.spyOn(statement, name).mockRejectedValue(new Error(message));
		}
	}

	function capturedLogs() {
		const lines: string[] = [];
		for (const level of ["log", "error", "warn", "info"] as const) {
			vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
		}
		return lines;
	}

	it("a constraint failure inside a send's batch (a retry fails again) is 500 without Retry-After, not 503", async () => {
		vi.spyOn(d1, "batch").mockRejectedValue(new Error("D1_ERROR: CHECK constraint failed: messages: SQLITE_CONSTRAINT"));
		const reply = await send(app, aliceToken, { targets: [bob], content: "cannot be stored" });
		expect(reply.status).toBe(500);
		expect(reply.headers.get("retry-after")).toBeNull();
		expect(reply.body.message).toBe("Internal error; quote the x-request-id header when reporting it.");
	});

	it("a lost connection on a Worker-side query is 503 + Retry-After; a syntax-level error is 500", async () => {
		failStatements("D1_ERROR: Network connection lost.");
		const transient = await call("/user/register/v2", { app, body: { username: "transient-user", password: "secret-pw" } });
		expect(transient.status).toBe(503);
		expect(transient.headers.get("retry-after")).toBe("1");
		vi.restoreAllMocks();
		failStatements("D1_ERROR: no such column: usernme: SQLITE_ERROR");
		const permanent = await call("/user/register/v2", { app, body: { username: "permanent-user", password: "secret-pw" } });
		expect(permanent.status).toBe(500);
		expect(permanent.headers.get("retry-after")).toBeNull();
	});

	it("the log line of a failing request names the request id and what failed, never the SQL's parameters or message content", async () => {
		const logs = capturedLogs();
		failStatements("D1_ERROR: Network connection lost.");
		const reply = await call("/user/register/v2", { app, body: { username: "private-name-4711", password: "secret-pw" } });
		vi.mocked(statement.all).mockRestore();
		vi.mocked(statement.run).mockRestore();
		vi.mocked(statement.raw).mockRestore();
		vi.mocked(statement.first).mockRestore();
		vi.spyOn(d1, "batch").mockRejectedValue(new Error("D1_ERROR: Network connection lost."));
		const sent = await send(app, aliceToken, { targets: [bob], content: "private content 0815" });
		expect([reply.status, sent.status]).toEqual([503, 503]);
		const text = logs.join("\n");
		expect(text).toContain(reply.headers.get("x-request-id"));
		expect(text).toContain(sent.headers.get("x-request-id"));
		expect(text).toContain("Network connection lost");
		for (const secret of ["private-name-4711", "private content 0815", "params", "insert into"])
			expect(text.toLowerCase()).not.toContain(secret);
	});
});

describe("what waits inside a conversation's object is bounded", () => {
	it("with D1 stalled, sends beyond the cap of waiting writes are 503 at once; the others complete once D1 answers", async () => {
		const key = pairKey(alice, carol);
		let release = () => {};
		const stalled = new Promise<void>((resolve) => {
			release = resolve;
		});
		vi.spyOn(d1, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
			if (touches(statements, key)) await stalled;
			return realBatch.call(this, statements);
		});
		const input = (i: number) => directSend(app, alice, carol, `queued ${i}`);
		const count = async () =>
			(
				await env.DB.prepare("SELECT count(*) AS n FROM messages WHERE app_id = ? AND conversation_key = ?")
					.bind(app.appId, key)
					.first<{ n: number }>()
			)?.n ?? 0;
		const storedBefore = await count();
		const total = MAX_QUEUED_WRITES + 100;
		const results = await runInDurableObject(conversationObject(env, app.appId, key), async (object) => {
			const instance = object as Conversation;
			const pending = Array.from({ length: total }, (_, i) => instance.send(input(i)));
			// The first batch is held in D1; everything beyond the cap was refused without waiting.
			await new Promise((r) => setTimeout(r, 50));
			release();
			return Promise.all(pending);
		});
		const refused = results.filter((r) => !r.ok);
		expect(refused.length).toBeGreaterThan(0);
		expect(refused.every((r) => !r.ok && r.status === 503 && r.message === "The conversation is busy; retry the request.")).toBe(true);
		const sent = results.filter((r) => r.ok).length;
		expect(sent).toBeGreaterThanOrEqual(MAX_QUEUED_WRITES);
		expect(sent + refused.length).toBe(total);
		expect(await count()).toBe(storedBefore + sent);
	});
});

describe("group commit: each queued send is answered by its own fate", () => {
	it("when a batch falls back to one-by-one and a transient error hits midway, only the failed send is 503", async () => {
		const key = pairKey(bob, carol);
		// A repeat of a committed transaction in the batch makes it fall back to one-by-one sends.
		const first = await send(app, bobToken, { transaction_id: 601, targets: [carol], content: "fallback repeat" });
		expect(first.status).toBe(200);
		const { bodyHash } = (await env.DB.prepare(
			"SELECT body_hash AS bodyHash FROM send_dedupe WHERE app_id = ? AND sender_id = ? AND transaction_id = 601",
		)
			.bind(app.appId, bob)
			.first<{ bodyHash: string }>()) as { bodyHash: string };
		const repeat = directSend(app, bob, carol, "fallback repeat", {
			transaction: { senderId: bob, transactionId: "601", targetId: carol, bodyHash },
		});
		const before = directSend(app, bob, carol, "fallback before");
		const after = directSend(app, bob, carol, "fallback after");
		// The group batch and the first two one-by-one writes reach D1; the third meets a lost connection.
		let batches = 0;
		vi.spyOn(d1, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
			if (touches(statements, key) && ++batches === 4) throw new Error("D1_ERROR: Network connection lost.");
			return realBatch.call(this, statements);
		});
		const results = await runInDurableObject(conversationObject(env, app.appId, key), async (object) => {
			const instance = object as Conversation;
			return Promise.all([instance.send(before), instance.send(repeat), instance.send(after)]);
		});
		expect(batches).toBe(4);
		expect(results[0]).toMatchObject({ ok: true, replayed: false });
		expect(results[1]).toEqual({ ok: true, msgId: first.body.msg_ids[0], replayed: true, bookmark: expect.any(String) });
		expect(results[2]).toEqual({
			ok: false,
			status: 503,
			message: "The message store is unavailable; retry the request.",
			bookmark: expect.any(String),
		});
		const stored = (await allMessages(app, bobToken, carol)).map((m) => m.content);
		expect(stored.filter((c) => c.startsWith("fallback"))).toEqual(["fallback before", "fallback repeat"]);
	});
});
