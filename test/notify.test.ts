import { beforeAll, describe, expect, it } from "vitest";
import { ack, allMessages, call, createApp, entryFor, recall, registerUser, type TestApp, userToken } from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let aliceToken: string;

beforeAll(async () => {
	app = await createApp();
	[alice, bob] = [await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
});

const notify = (body: Record<string, unknown>, options: { token?: string; headers?: Record<string, string> } = {}) =>
	call("/message/notify", { app, ...options, body: { type: 1, content_type: 0, ...body } });

describe("POST /message/notify", () => {
	it("the admin notifies from the system account 0: is_system, counts as unread, readable and ackable as peer 0", async () => {
		const reply = await notify({ targets: [alice], content: "Welcome!" });
		expect(reply.status).toBe(200);
		const [msgId] = reply.body.msg_ids;
		expect(await entryFor(app, aliceToken, 0)).toMatchObject({ conversation_id: { uid: 0, device_sn: 0 }, num: 1, last_msg_id: msgId });
		const [message] = await allMessages(app, aliceToken, 0);
		expect(message).toMatchObject({ msg_id: msgId, is_system: true, from_xid: { uid: 0 }, to_xid: { uid: alice }, content: "Welcome!" });
		expect((await ack(app, aliceToken, 0, msgId)).status).toBe(200);
		expect((await entryFor(app, aliceToken, 0)).num).toBe(0);
	});

	it("from_user_id names another sender; the message is still a system message", async () => {
		const reply = await notify({ from_user_id: bob, targets: [alice], content: "From bob, officially" });
		expect(reply.status).toBe(200);
		const [message] = await allMessages(app, aliceToken, bob);
		expect(message).toMatchObject({ is_system: true, from_xid: { uid: bob } });
	});

	it("only the admin may notify (403)", async () => {
		expect((await notify({ targets: [bob], content: "x" }, { token: aliceToken })).status).toBe(403);
		expect((await notify({ targets: [bob], content: "x" }, { headers: { user_id: String(alice) } })).status).toBe(403);
	});

	it("a notification can be recalled only by an admin, even by its named sender", async () => {
		const [msgId] = (await notify({ from_user_id: bob, targets: [alice], content: "recall me" })).body.msg_ids;
		const bobToken = await userToken(app, bob);
		const byBob = await recall(app, bobToken, alice, msgId);
		expect(byBob.status).toBe(403);
		expect(byBob.body.message).toBe("Only an admin may recall a system message.");
		expect((await recall(app, undefined, alice, msgId)).status).toBe(200);
	});

	it("dedupe rules are those of send", async () => {
		const first = await notify({ transaction_id: 5, targets: [alice, bob], content: "once" });
		const again = await notify({ transaction_id: 5, targets: [alice, bob], content: "once" });
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(again.body.msg_ids).toEqual(first.body.msg_ids);
		expect((await notify({ transaction_id: 5, targets: [alice, bob], content: "other" })).status).toBe(409);
		expect((await allMessages(app, aliceToken, 0)).filter((m) => m.content === "once")).toHaveLength(1);
	});

	it("operations are not notifications (400), and targets are validated as for send", async () => {
		expect((await notify({ targets: [alice], content_type: 11, related_mid: 1, content: "x" })).status).toBe(400);
		expect((await notify({ targets: [999999], content: "x" })).status).toBe(404);
	});
});
