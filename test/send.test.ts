import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allMessages, call, createApp, history, registerUser, send, type TestApp, userToken } from "./support";

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

const memberRow = (userId: number, peerId: number) =>
	env.DB.prepare("SELECT * FROM conversation_members WHERE app_id = ? AND user_id = ? AND peer_id = ?")
		.bind(app.appId, userId, peerId)
		.first<Record<string, number>>();

describe("POST /message/send (type 1)", () => {
	it("§5.1 a user sends as itself and the peer reads it back", async () => {
		const reply = await send(app, aliceToken, { targets: [bob], content: "hello bob", ext: '{"k":1}' });
		expect(reply.status).toBe(200);
		expect(reply.body).toMatchObject({ code: 200, message: "", data: true });
		expect(reply.body.msg_ids).toHaveLength(1);
		const [msgId] = reply.body.msg_ids;

		const page = await history(app, bobToken, { opposite_id: alice });
		expect(page.status).toBe(200);
		expect(page.body.data.messages[0]).toEqual({
			msg_id: msgId,
			type: "CHAT",
			ctype: "TEXT",
			content: "hello bob",
			attachment: "",
			config: "",
			ext: '{"k":1}',
			timestamp: expect.any(Number),
			status: "DELIVERED",
			from_xid: { uid: alice, device_sn: 0 },
			to_xid: { uid: bob, device_sn: 0 },
			recalled: false,
			is_system: false,
		});
	});
});
