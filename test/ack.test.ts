import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ack, call, createApp, entryFor, history, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

async function pairWithMessages(n: number) {
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob, { device_sn: 4 })];
	const ids: number[] = [];
	for (let i = 0; i < n; i++) ids.push((await send(app, aliceToken, { targets: [bob], content: `m${i}` })).body.msg_ids[0]);
	return { alice, bob, aliceToken, bobToken, ids };
}

describe("GET /message/ack", () => {
	it("marks read up to msg_id inclusive; unread drops accordingly", async () => {
		const { alice, bobToken, ids } = await pairWithMessages(5);
		expect((await entryFor(app, bobToken, alice)).num).toBe(5);
		const reply = await ack(app, bobToken, alice, ids[2] as number);
		expect(reply.status).toBe(200);
		expect(reply.body).toEqual({ code: 200, message: "", data: true });
		expect((await entryFor(app, bobToken, alice)).num).toBe(2);
	});

	it("the read position only moves forward; an older msg_id is accepted and changes nothing", async () => {
		const { alice, bobToken, ids } = await pairWithMessages(4);
		await ack(app, bobToken, alice, ids[3] as number);
		const older = await ack(app, bobToken, alice, ids[0] as number);
		expect(older.status).toBe(200);
		expect((await entryFor(app, bobToken, alice)).num).toBe(0);
		const page = await history(app, bobToken, { opposite_id: alice });
		expect(page.body.data.messages.every((m: any) => m.status === "READ")).toBe(true);
	});

	it("is idempotent", async () => {
		const { alice, bobToken, ids } = await pairWithMessages(3);
		for (let i = 0; i < 3; i++) expect((await ack(app, bobToken, alice, ids[1] as number)).status).toBe(200);
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
	});

	it("a msg_id that is not a message of that conversation is 404", async () => {
		const { alice, bob, bobToken } = await pairWithMessages(1);
		const elsewhere = await pairWithMessages(1);
		expect((await ack(app, bobToken, alice, 99999999)).status).toBe(404);
		const reply = await ack(app, bobToken, alice, elsewhere.ids[0] as number);
		expect(reply.status).toBe(404);
		expect(reply.body.message).toContain(String(elsewhere.ids[0]));
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
		expect(bob).toBeGreaterThan(0);
	});

	it("the peer then sees its messages as READ", async () => {
		const { alice, bob, aliceToken, bobToken, ids } = await pairWithMessages(3);
		await ack(app, bobToken, alice, ids[1] as number);
		const mine = await history(app, aliceToken, { opposite_id: bob });
		expect(mine.body.data.messages.map((m: any) => m.status)).toEqual(["UNREAD", "READ", "READ"]);
	});

	it("records the device that read (the token's device unless device_sn is given)", async () => {
		const { alice, bob, bobToken, ids } = await pairWithMessages(2);
		const readDevice = async () =>
			(
				await env.DB.prepare("SELECT read_device_sn FROM conversation_members WHERE app_id = ? AND user_id = ? AND peer_id = ?")
					.bind(app.appId, bob, alice)
					.first<{ read_device_sn: number }>()
			)?.read_device_sn;
		await ack(app, bobToken, alice, ids[0] as number);
		expect(await readDevice()).toBe(4);
		await ack(app, bobToken, alice, ids[1] as number, 9);
		expect(await readDevice()).toBe(9);
	});

	it("without msg_id (or with 0) marks read up to the newest message the caller can see", async () => {
		const { alice, bob, aliceToken, bobToken, ids } = await pairWithMessages(3);
		const reply = await call("/message/ack", { app, token: bobToken, query: { conversation_id: alice } });
		expect(reply.status).toBe(200);
		expect(reply.body).toEqual({ code: 200, message: "", data: true });
		expect((await entryFor(app, bobToken, alice)).num).toBe(0);
		expect((await history(app, aliceToken, { opposite_id: bob })).body.data.messages.map((m: any) => m.status)).toEqual([
			"READ",
			"READ",
			"READ",
		]);
		// 0 is the same, and a later message is unread again until the next ack.
		const [later] = (await send(app, aliceToken, { targets: [bob], content: "later" })).body.msg_ids;
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
		expect((await ack(app, bobToken, alice, 0)).status).toBe(200);
		expect((await entryFor(app, bobToken, alice)).num).toBe(0);
		expect(later).toBeGreaterThan(ids[2] as number);
	});

	it("without msg_id a removed group member reads up to their removal only; no conversation at all is 404", async () => {
		const [owner, member] = [await registerUser(app), await registerUser(app)];
		const [ownerToken, memberToken] = [await userToken(app, owner), await userToken(app, member)];
		const group = (await call("/group/create", { app, token: ownerToken, body: { user_list: [member] } })).body.data.group_id;
		const groupSend = (content: string) => send(app, ownerToken, { type: 2, targets: [group], content });
		const [seen] = (await groupSend("before")).body.msg_ids;
		await call("/group/kick", { app, token: ownerToken, body: { group_id: group, user_list: [member] } });
		await groupSend("after");
		expect((await call("/message/ack", { app, token: memberToken, query: { conversation_id: group } })).status).toBe(200);
		const position = await env.DB.prepare("SELECT read_position FROM conversation_members WHERE app_id = ? AND user_id = ? AND peer_id = ?")
			.bind(app.appId, member, group)
			.first<{ read_position: number }>();
		expect(position?.read_position).toBe(seen);
		const stranger = await registerUser(app);
		const none = await call("/message/ack", { app, token: memberToken, query: { conversation_id: stranger } });
		expect(none.status).toBe(404);
	});

	it("bad input: malformed msg_id or conversation_id, unknown peer, self", async () => {
		const { alice, bob, bobToken } = await pairWithMessages(1);
		expect((await call("/message/ack", { app, token: bobToken, query: { conversation_id: alice, msg_id: "-1" } })).status).toBe(400);
		expect((await call("/message/ack", { app, token: bobToken, query: { msg_id: 1 } })).status).toBe(400);
		expect((await call("/message/ack", { app, token: bobToken, query: { conversation_id: "x", msg_id: 1 } })).status).toBe(400);
		expect((await ack(app, bobToken, 99999999, 1)).status).toBe(404);
		expect((await ack(app, bobToken, bob, 1)).status).toBe(400);
	});
});
