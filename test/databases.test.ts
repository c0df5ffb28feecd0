// Apps spread over several D1 databases (src/db/databases.ts) and replica
// reads with bookmarks (src/db/sessions.ts): each app's requests, objects,
// callbacks and channels use its own database; one database failing leaves
// apps on the other untouched; every answer carries a bookmark and a read
// that presents one opens its session from it.
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runSchedule } from "../src/apps/scheduled";
import { asUser, connect, eventsOf } from "./channels";
import { receiver, setSettings } from "./receiver";
import {
	allMessages,
	call,
	createApp,
	d1Preparers,
	d1Sessions,
	history,
	registerUser,
	send,
	snapshot,
	type TestApp,
	unreadList,
	userToken,
} from "./support";

type Side = { app: TestApp; alice: number; bob: number; aliceToken: string; bobToken: string };

async function side(database: "DB" | "DB_2"): Promise<Side> {
	const app = await createApp({ database });
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	return { app, alice, bob, aliceToken: await userToken(app, alice), bobToken: await userToken(app, bob) };
}

/** How many rows of `table` belong to the app, in one database. */
async function rowsIn(d1: D1Database, table: string, appId: number): Promise<number> {
	const row = await d1.prepare(`SELECT count(*) AS n FROM ${table} WHERE app_id = ?`).bind(appId).first<{ n: number }>();
	return row?.n ?? 0;
}

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

let one: Side;
let two: Side;

beforeAll(async () => {
	one = await side("DB");
	two = await side("DB_2");
});

afterEach(() => vi.restoreAllMocks());

describe("apps on several D1 databases", () => {
	it("each app's users, messages, conversation state and callbacks are in its own database and nowhere else", async () => {
		for (const s of [one, two]) {
			expect((await send(s.app, s.aliceToken, { targets: [s.bob], content: `to ${s.app.key}` })).status).toBe(200);
			const group = await call("/group/create", { app: s.app, token: s.aliceToken, body: { user_list: [s.bob] } });
			expect(group.status).toBe(200);
			expect((await send(s.app, s.bobToken, { type: 2, targets: [group.body.data.group_id], content: "group" })).status).toBe(200);
		}
		for (const [s, home, other] of [
			[one, env.DB, env.DB_2],
			[two, env.DB_2, env.DB],
		] as const) {
			for (const table of ["users", "messages", "conversation_members", "groups", "group_members"]) {
				expect(await rowsIn(home, table, s.app.appId), `${table} of ${s.app.key} at home`).toBeGreaterThan(0);
				expect(await rowsIn(other, table, s.app.appId), `${table} of ${s.app.key} elsewhere`).toBe(0);
			}
			const row = await other.prepare("SELECT count(*) AS n FROM apps WHERE id = ?").bind(s.app.appId).first<{ n: number }>();
			expect(row?.n).toBe(0);
		}
		// The directory (DB) places both.
		const placed = await env.DB.prepare("SELECT app_id, database_binding FROM app_directory WHERE app_id IN (?, ?) ORDER BY app_id")
			.bind(one.app.appId, two.app.appId)
			.all();
		expect(placed.results).toEqual([
			{ app_id: one.app.appId, database_binding: "DB" },
			{ app_id: two.app.appId, database_binding: "DB_2" },
		]);
	});

	it("every endpoint works for an app on the second database: history, unread, ack, recall, delete", async () => {
		const s = await side("DB_2");
		const sent = await send(s.app, s.aliceToken, { targets: [s.bob], content: "on DB_2" });
		const msgId = sent.body.msg_ids[0];
		expect((await allMessages(s.app, s.bobToken, s.alice)).map((m) => m.content)).toEqual(["on DB_2"]);
		const unreadOf = async () => (await unreadList(s.app, s.bobToken)).body.data.map((e: any) => [e.conversation_id.uid, e.num]);
		expect(await unreadOf()).toEqual([[s.alice, 1]]);
		expect((await call("/message/ack", { app: s.app, token: s.bobToken, query: { conversation_id: s.alice, msg_id: msgId } })).status).toBe(
			200,
		);
		expect(await unreadOf()).toEqual([[s.alice, 0]]);
		expect(
			(await call("/message/recall", { app: s.app, token: s.aliceToken, body: { conversation_id: s.bob, msg_id: msgId } })).status,
		).toBe(200);
		expect((await history(s.app, s.bobToken, { opposite_id: s.alice })).body.data.messages[0]).toMatchObject({ recalled: true });
		expect(
			(await call("/message/conversation", { app: s.app, token: s.bobToken, method: "DELETE", query: { conversation_id: s.alice } }))
				.status,
		).toBe(200);
		expect((await rowsIn(env.DB, "messages", s.app.appId)) + (await rowsIn(env.DB, "conversation_members", s.app.appId))).toBe(0);
	});

	it("callbacks follow the app: an app on DB_2 hears its sends, signed with its own settings", async () => {
		const s = await side("DB_2");
		const hook = receiver();
		await setSettings(s.app, { callback_url: hook.url });
		expect((await send(s.app, s.aliceToken, { targets: [s.bob], content: "heard" })).status).toBe(200);
		const [callback] = await hook.count(1);
		expect(callback?.body).toMatchObject({ appId: s.app.key, content: "heard" });
		expect(await rowsIn(env.DB_2, "callback_outbox", s.app.appId)).toBe(1);
		expect(await rowsIn(env.DB, "callback_outbox", s.app.appId)).toBe(0);
	});

	it("channels follow the app: a user of an app on DB_2 is online there and gets the push", async () => {
		const s = await side("DB_2");
		const channel = await connect(asUser(s.app, s.bobToken));
		try {
			expect(await rowsIn(env.DB_2, "online_users", s.app.appId)).toBe(1);
			expect(await rowsIn(env.DB, "online_users", s.app.appId)).toBe(0);
			const sent = await send(s.app, s.aliceToken, { targets: [s.bob], content: "live on DB_2" });
			const [event] = await eventsOf(channel, 1);
			expect(event).toMatchObject({ event: "message", data: { msg_id: sent.body.msg_ids[0], content: "live on DB_2" } });
		} finally {
			channel.close();
		}
	});

	it("one database failing (injected) leaves apps on the other untouched; the failing one answers 503", async () => {
		const fetcherOf = (d: unknown) => (d as { fetcher: unknown }).fetcher;
		const broken = fetcherOf(env.DB_2);
		const failing = (target: object, name: "prepare" | "batch") => {
			const real = (target as Record<string, (...args: unknown[]) => unknown>)[name] as (...args: unknown[]) => unknown;
			return vi.spyOn(target as D1DatabaseSession, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
				if (fetcherOf(this) === broken) throw new Error("D1_ERROR: Network connection lost. (injected)");
				return real.apply(this, args);
			} as never);
		};
		const healthy = await side("DB");
		const sick = await side("DB_2");
		for (const preparer of d1Preparers) failing(preparer, "prepare");
		failing(d1Sessions, "batch");

		const fine = await send(healthy.app, healthy.aliceToken, { targets: [healthy.bob], content: "still fine" });
		expect(fine.status).toBe(200);
		expect((await history(healthy.app, healthy.bobToken, { opposite_id: healthy.alice })).body.data.messages).toHaveLength(1);
		expect((await unreadList(healthy.app, healthy.bobToken)).status).toBe(200);

		const down = await send(sick.app, sick.aliceToken, { targets: [sick.bob], content: "lost" });
		expect(down.status).toBe(503);
		expect(down.headers.get("retry-after")).toBe("1");
		expect((await history(sick.app, sick.bobToken, { opposite_id: sick.alice })).status).toBe(503);
		// The schedule sweeps the healthy database and reports the other.
		expect((await runSchedule(env)).failed).toEqual(["DB_2"]);

		vi.restoreAllMocks();
		expect(await rowsIn(env.DB_2, "messages", sick.app.appId)).toBe(0);
		expect((await send(sick.app, sick.aliceToken, { targets: [sick.bob], content: "back" })).status).toBe(200);
	});
});

describe("replica reads with bookmarks (D1 Sessions API)", () => {
	/** Records the constraint or bookmark each session of the service starts from. */
	function sessionStarts(): string[] {
		const starts: string[] = [];
		const proto = Object.getPrototypeOf(env.DB) as D1Database;
		const real = proto.withSession;
		vi.spyOn(proto, "withSession").mockImplementation(function (this: D1Database, from?: string) {
			starts.push(String(from));
			return real.call(this, from);
		});
		return starts;
	}

	it("every write answers with an x-d1-bookmark; later writes answer later bookmarks", async () => {
		const first = await send(one.app, one.aliceToken, { targets: [one.bob], content: "b1" });
		const second = await send(one.app, one.aliceToken, { targets: [one.bob], content: "b2" });
		const registered = await call("/user/register/v2", {
			app: two.app,
			body: { username: `bm-${crypto.randomUUID().slice(0, 8)}`, password: "secret-pw" },
		});
		for (const reply of [first, second, registered]) expect(reply.headers.get("x-d1-bookmark")).toMatch(BOOKMARK);
		expect(String(second.headers.get("x-d1-bookmark")) > String(first.headers.get("x-d1-bookmark"))).toBe(true);
	});

	it("a read presenting a write's bookmark starts its session there and sees the write", async () => {
		const sent = await send(two.app, two.aliceToken, { targets: [two.bob], content: "after the bookmark" });
		const bookmark = String(sent.headers.get("x-d1-bookmark"));
		const starts = sessionStarts();
		const read = await call("/message/conversation", {
			app: two.app,
			token: two.bobToken,
			query: { opposite_id: two.alice },
			headers: { "x-d1-bookmark": bookmark },
		});
		expect(read.status).toBe(200);
		expect(read.body.data.messages[0]).toMatchObject({ msg_id: sent.body.msg_ids[0] });
		expect(starts).toEqual([bookmark]);
		expect(String(read.headers.get("x-d1-bookmark")) >= bookmark).toBe(true);
	});

	it("a read without a bookmark reads the primary (the binding itself, no session), so it sees every earlier write", async () => {
		const sent = await send(one.app, one.aliceToken, { targets: [one.bob], content: "no bookmark needed" });
		const starts = sessionStarts();
		const read = await history(one.app, one.bobToken, { opposite_id: one.alice });
		expect(read.body.data.messages[0]).toMatchObject({ msg_id: sent.body.msg_ids[0] });
		expect(starts).toEqual([]);
		// A write without a bookmark starts its session at the primary too.
		await call("/user/register/v2", { app: one.app, body: { username: `p-${crypto.randomUUID().slice(0, 8)}`, password: "secret-pw" } });
		expect(starts).toEqual(["first-primary"]);
	});

	it("bookmarks: a read made without one answers none (it read the primary); the same reads presenting one answer one at least as new", async () => {
		const sent = await send(one.app, one.aliceToken, { targets: [one.bob], content: "a write to follow" });
		const bookmark = String(sent.headers.get("x-d1-bookmark"));
		expect(bookmark).toMatch(BOOKMARK);
		const reads: [string, Parameters<typeof call>[1]][] = [
			["/message/unread", { app: one.app, token: one.bobToken }],
			["/message/conversation", { app: one.app, token: one.bobToken, query: { opposite_id: one.alice } }],
			["/app/settings", { app: one.app }],
			["/group/user_joined", { app: one.app, token: one.bobToken }],
		];
		for (const [path, options] of reads) {
			const plain = await call(path, options);
			expect(plain.status, path).toBe(200);
			expect(plain.headers.get("x-d1-bookmark"), path).toBeNull();
			const following = await call(path, { ...options, headers: { "x-d1-bookmark": bookmark } });
			expect(following.status, path).toBe(200);
			expect(String(following.headers.get("x-d1-bookmark")) >= bookmark, path).toBe(true);
		}
	});

	it("a GET that writes through a conversation object (ack) answers with the object's bookmark", async () => {
		const sent = await send(one.app, one.aliceToken, { targets: [one.bob], content: "to ack" });
		const acked = await call("/message/ack", {
			app: one.app,
			token: one.bobToken,
			query: { conversation_id: one.alice, msg_id: sent.body.msg_ids[0] },
		});
		expect(acked.status).toBe(200);
		expect(String(acked.headers.get("x-d1-bookmark")) > String(sent.headers.get("x-d1-bookmark"))).toBe(true);
	});

	it("a malformed x-d1-bookmark is 400 and changes nothing", async () => {
		const before = await snapshot();
		for (const bad of ["garbage", "first-unconstrained", "00000000-0000000b-00000000", "".padEnd(300, "a")]) {
			const reply = await call("/message/send", {
				app: one.app,
				token: one.aliceToken,
				body: { targets: [one.bob], content: "never" },
				headers: { "x-d1-bookmark": bad },
			});
			expect(reply.status, bad).toBe(400);
			expect(reply.body.message).toContain("x-d1-bookmark");
		}
		expect(await snapshot()).toBe(before);
	});
});
