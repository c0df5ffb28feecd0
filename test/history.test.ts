import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { pairKey } from "../src/conversation/key";
import { allMessages, call, createApp, d1Preparers, history, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let aliceToken: string;
let bobToken: string;
let ids: number[]; // oldest first

beforeAll(async () => {
	app = await createApp();
	[alice, bob] = [await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
	bobToken = await userToken(app, bob);
	ids = [];
	for (let i = 0; i < 45; i++) {
		const reply = await send(app, i % 3 ? aliceToken : bobToken, { targets: [i % 3 ? bob : alice], content: `m${i}` });
		ids.push(reply.body.msg_ids[0]);
	}
});

const newestFirst = () => [...ids].reverse();

describe("GET /message/conversation", () => {
	it("newest first, 20 by default, with is_last and next_msg_id", async () => {
		const page = await history(app, aliceToken, { opposite_id: bob });
		expect(page.status).toBe(200);
		expect(page.body.data.messages.map((m: any) => m.msg_id)).toEqual(newestFirst().slice(0, 20));
		expect(page.body.data.is_last).toBe(false);
		expect(page.body.data.next_msg_id).toBe(newestFirst()[20]);
	});

	it("msg_id_start is inclusive and goes to older messages", async () => {
		const start = ids[10] as number;
		const page = await history(app, aliceToken, { opposite_id: bob, msg_id_start: start, limit: 3 });
		expect(page.body.data.messages.map((m: any) => m.msg_id)).toEqual([ids[10], ids[9], ids[8]]);
		expect(page.body.data.next_msg_id).toBe(ids[7]);
	});

	it("msg_id_start 0 or absent starts at the newest message", async () => {
		const zero = await history(app, aliceToken, { opposite_id: bob, msg_id_start: 0, limit: 1 });
		expect(zero.body.data.messages[0].msg_id).toBe(ids[44]);
	});

	it("the last page has is_last true and next_msg_id 0", async () => {
		const page = await history(app, aliceToken, { opposite_id: bob, msg_id_start: ids[1] as number, limit: 5 });
		expect(page.body.data.messages.map((m: any) => m.msg_id)).toEqual([ids[1], ids[0]]);
		expect(page.body.data).toMatchObject({ is_last: true, next_msg_id: 0 });
		const exact = await history(app, aliceToken, { opposite_id: bob, msg_id_start: ids[1] as number, limit: 2 });
		expect(exact.body.data).toMatchObject({ is_last: true, next_msg_id: 0 });
	});

	it.each([1, 7, 20, 44, 45, 100])("paging with next_msg_id (limit %i) returns every message exactly once", async (limit) => {
		const seen = (await allMessages(app, bobToken, alice, limit)).map((m) => m.msg_id);
		expect(seen).toEqual(newestFirst());
	});

	it("limit above 100 is clamped to 100", async () => {
		const carol = await registerUser(app);
		const carolToken = await userToken(app, carol);
		await Promise.all(Array.from({ length: 105 }, (_, i) => send(app, carolToken, { targets: [alice], content: `c${i}` })));
		const page = await history(app, aliceToken, { opposite_id: carol, limit: 1000 });
		expect(page.body.data.messages).toHaveLength(100);
		expect(page.body.data.is_last).toBe(false);
	});

	it.each([0, -1, "x", "1.5"])("limit %j is 400", async (limit) => {
		const page = await history(app, aliceToken, { opposite_id: bob, limit });
		expect(page.status).toBe(400);
		expect(page.body.message).toContain('"limit"');
	});

	it("an unknown peer is 404; the caller as peer is 400; opposite_id is required", async () => {
		expect((await history(app, aliceToken, { opposite_id: 999999 })).status).toBe(404);
		expect((await history(app, aliceToken, { opposite_id: alice })).status).toBe(400);
		const missing = await history(app, aliceToken, {});
		expect(missing.status).toBe(400);
		expect(missing.body.message).toBe('Query parameter "opposite_id" is required.');
	});

	it("the system account 0 is a valid peer with an empty history", async () => {
		const page = await history(app, aliceToken, { opposite_id: 0 });
		expect(page.status).toBe(200);
		expect(page.body.data).toEqual({ messages: [], is_last: true, next_msg_id: 0 });
	});

	it("both sides read the same history", async () => {
		const a = (await allMessages(app, aliceToken, bob)).map((m) => m.msg_id);
		const b = (await allMessages(app, bobToken, alice)).map((m) => m.msg_id);
		expect(a).toEqual(b);
	});

	it("status: received is READ up to the caller's read position, else DELIVERED; sent is READ once the peer has read it", async () => {
		const dave = await registerUser(app);
		const daveToken = await userToken(app, dave);
		const [m1] = (await send(app, aliceToken, { targets: [dave], content: "first" })).body.msg_ids;
		let mine = await history(app, aliceToken, { opposite_id: dave });
		expect(mine.body.data.messages[0]).toMatchObject({ msg_id: m1, status: "UNREAD" });
		let theirs = await history(app, daveToken, { opposite_id: alice });
		expect(theirs.body.data.messages[0]).toMatchObject({ msg_id: m1, status: "DELIVERED" });

		// Replying means having read: dave's read position moves past m1.
		const [m2] = (await send(app, daveToken, { targets: [alice], content: "reply" })).body.msg_ids;
		mine = await history(app, aliceToken, { opposite_id: dave });
		expect(mine.body.data.messages.map((m: any) => [m.msg_id, m.status])).toEqual([
			[m2, "DELIVERED"],
			[m1, "READ"],
		]);
		// Alice has fetched m2 (the history call above): dave sees it DELIVERED, not yet READ.
		theirs = await history(app, daveToken, { opposite_id: alice });
		expect(theirs.body.data.messages.map((m: any) => [m.msg_id, m.status])).toEqual([
			[m2, "DELIVERED"],
			[m1, "READ"],
		]);
	});

	it("a sent message is UNREAD until the peer fetches it (DELIVERED); the unread list does not deliver", async () => {
		const [eve, finn] = [await registerUser(app), await registerUser(app)];
		const [eveToken, finnToken] = [await userToken(app, eve), await userToken(app, finn)];
		const [m] = (await send(app, eveToken, { targets: [finn], content: "are you there?" })).body.msg_ids;
		await call("/message/unread", { app, token: finnToken });
		expect((await history(app, eveToken, { opposite_id: finn })).body.data.messages[0]).toMatchObject({ msg_id: m, status: "UNREAD" });
		await history(app, finnToken, { opposite_id: eve });
		expect((await history(app, eveToken, { opposite_id: finn })).body.data.messages[0]).toMatchObject({ msg_id: m, status: "DELIVERED" });
	});

	it("the admin reads a user's history with header user_id", async () => {
		const page = await call("/message/conversation", { app, headers: { user_id: String(alice) }, query: { opposite_id: bob, limit: 1 } });
		expect(page.status).toBe(200);
		expect(page.body.data.messages[0].msg_id).toBe(ids[44]);
	});

	it("a page reads about its own rows, not the conversation: 20 or 100 of 2,001 messages", async () => {
		const [gil, hal] = [await registerUser(app), await registerUser(app)];
		const gilToken = await userToken(app, gil);
		await send(app, gilToken, { targets: [hal], content: "first" }); // both sides exist
		// 2,000 more in one statement (the send path is not what this measures).
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
			INSERT INTO messages (app_id, conversation_key, type, content_type, content, attachment, config, ext, from_uid, from_device_sn, to_uid, timestamp)
			SELECT ?, ?, 1, 0, 'filler', '', '', '', ?, 0, ?, 0 FROM n`,
		)
			.bind(app.appId, pairKey(gil, hal), gil, hal)
			.run();
		// The statement the page ran, with its parameters, run again for D1's own count of rows read.
		const statements: { query: string; params: unknown[] }[] = [];
		const spies = d1Preparers.map((d1) => {
			const realPrepare = d1.prepare;
			return vi.spyOn(d1, "prepare").mockImplementation(function (this: D1DatabaseSession, query: string) {
				const statement = realPrepare.call(this, query);
				const realBind = statement.bind;
				statement.bind = (...params: unknown[]) => {
					statements.push({ query, params });
					return realBind.apply(statement, params);
				};
				return statement;
			});
		});
		const rowsRead = async (limit: number) => {
			statements.length = 0;
			const page = await history(app, gilToken, { opposite_id: hal, limit });
			expect(page.body.data.messages).toHaveLength(limit);
			const read = statements.find((s) => s.query.includes("FROM messages") || s.query.includes("JOIN messages"));
			if (!read) throw new Error("the history statement was not seen");
			return (
				await env.DB.prepare(read.query)
					.bind(...read.params)
					.all()
			).meta.rows_read;
		};
		try {
			const [small, large] = [await rowsRead(20), await rowsRead(100)];
			expect(small).toBeLessThan(100); // not the 2,001 messages of the conversation
			expect(large).toBeLessThan(300);
		} finally {
			for (const spy of spies) spy.mockRestore();
		}
	});
});
