import { beforeAll, describe, expect, it } from "vitest";
import { call, createApp, deleteConversation, registerUser, send, type TestApp, unreadList, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

describe("GET /message/unread", () => {
	it("lists conversations, most recent activity first, with unread counts and the fields of the spec", async () => {
		const [me, a, b, c] = [await registerUser(app), await registerUser(app), await registerUser(app), await registerUser(app)];
		const [meToken, aToken, bToken] = [await userToken(app, me), await userToken(app, a), await userToken(app, b)];
		const fromA = await send(app, aToken, { targets: [me], content: "a1" });
		await send(app, bToken, { targets: [me], content: "b1" });
		const fromB2 = await send(app, bToken, { targets: [me], content: "b2" });
		const toC = await send(app, meToken, { targets: [c], content: "to c" });

		const list = await unreadList(app, meToken);
		expect(list.status).toBe(200);
		expect(list.body.cursor).toBe("");
		expect(list.body.data).toEqual([
			{ conversation_id: { uid: c, device_sn: 0 }, num: 0, type: 1, last_msg_id: toC.body.msg_ids[0], last_timestamp: expect.any(Number) },
			{
				conversation_id: { uid: b, device_sn: 0 },
				num: 2,
				type: 1,
				last_msg_id: fromB2.body.msg_ids[0],
				last_timestamp: expect.any(Number),
			},
			{
				conversation_id: { uid: a, device_sn: 0 },
				num: 1,
				type: 1,
				last_msg_id: fromA.body.msg_ids[0],
				last_timestamp: expect.any(Number),
			},
		]);
	});

	it("zero-unread conversations are listed; deleted ones are not", async () => {
		const [me, a, b] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		const [meToken, aToken] = [await userToken(app, me), await userToken(app, a)];
		await send(app, meToken, { targets: [a], content: "I wrote" });
		await send(app, meToken, { targets: [b], content: "I wrote too" });
		await send(app, aToken, { targets: [me], content: "reply" });
		expect((await deleteConversation(app, meToken, b)).status).toBe(200);
		const list = await unreadList(app, meToken);
		expect(list.body.data.map((e: any) => [e.conversation_id.uid, e.num])).toEqual([[a, 1]]);
	});

	it("limit and cursor page through every conversation exactly once", async () => {
		const me = await registerUser(app);
		const meToken = await userToken(app, me);
		const peers: number[] = [];
		for (let i = 0; i < 13; i++) {
			const peer = await registerUser(app);
			peers.push(peer);
			await send(app, meToken, { targets: [peer], content: `hi ${i}` });
		}
		for (const limit of [1, 4, 13, 500]) {
			const seen: number[] = [];
			let cursor = "";
			for (let pages = 0; pages < 20; pages++) {
				const list = await unreadList(app, meToken, cursor ? { limit, cursor } : { limit });
				expect(list.status).toBe(200);
				seen.push(...list.body.data.map((e: any) => e.conversation_id.uid));
				cursor = list.body.cursor;
				if (!cursor) break;
			}
			expect(seen).toEqual([...peers].reverse());
		}
	});

	it.each([0, -1, "x"])("limit %j is 400", async (limit) => {
		const me = await registerUser(app);
		const reply = await unreadList(app, await userToken(app, me), { limit });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"limit"');
	});

	it("a limit above 500 is clamped; a forged cursor is 400", async () => {
		const me = await registerUser(app);
		const token = await userToken(app, me);
		expect((await unreadList(app, token, { limit: 100000 })).status).toBe(200);
		const forged = await unreadList(app, token, { cursor: "1/x; DROP TABLE" });
		expect(forged.status).toBe(400);
		expect(forged.body.message).toContain('"cursor"');
	});

	it("the admin needs a user_id header for the unread list", async () => {
		const reply = await call("/message/unread", { app });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"user_id"');
	});
});
