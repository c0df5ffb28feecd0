// SPEC §6.3 realtime channels, in workerd: the upgrade, credentials, ping,
// hibernation, and events pushed by writes to the users online.
import { evictDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { userChannels } from "../src/realtime/push";
import { asUser, connect, eventsOf } from "./channels";
import { meter } from "./meter";
import { call, createApp, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

afterEach(() => vi.restoreAllMocks());

async function pair() {
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	return { alice, bob, aliceToken: await userToken(app, alice), bobToken: await userToken(app, bob, { device_sn: 7 }) };
}

describe("§6.3 GET /realtime", () => {
	it("§6.3 without Upgrade: websocket it is 426 with the envelope", async () => {
		const { aliceToken } = await pair();
		const reply = await call("/realtime", { app, token: aliceToken });
		expect(reply.status).toBe(426);
		expect(reply.body).toMatchObject({ code: 426, data: null });
	});

	it("§6.3 bad credentials are 401 with the envelope, and no upgrade (headers or query)", async () => {
		const tries: { path: string; headers: Record<string, string> }[] = [
			{ path: "/realtime", headers: { app_id: app.key, "access-token": "not-a-token" } },
			{ path: `/realtime?app_id=${app.key}&access_token=nope`, headers: {} },
			{ path: "/realtime", headers: { app_id: app.key } },
		];
		for (const init of tries) {
			const response = await SELF.fetch(`https://im.test${init.path}`, { headers: { upgrade: "websocket", ...init.headers } });
			expect(response.status).toBe(401);
			expect(response.webSocket).toBeNull();
			expect(await response.json()).toMatchObject({ code: 401 });
		}
	});

	it("§6.3 a browser's query credentials open a channel; ping is answered pong", async () => {
		const { aliceToken } = await pair();
		const channel = await connect({}, `?app_id=${app.key}&access_token=${aliceToken}`);
		channel.socket.send("ping");
		await vi.waitFor(() => expect(channel.texts).toContain("pong"));
		channel.close();
	});

	it("§6.3 a message reaches every channel of the receiver and the sender's other channel, in the message shape with conversation_id", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [bobPhone, bobLaptop, aliceTab] = [
			await connect(asUser(app, bobToken)),
			await connect(asUser(app, bobToken)),
			await connect(asUser(app, aliceToken)),
		];
		const sent = await send(app, aliceToken, { targets: [bob], content: "live" });
		expect(sent.status).toBe(200);
		for (const channel of [bobPhone, bobLaptop]) {
			const [event] = await eventsOf(channel, 1);
			expect(event).toEqual({
				event: "message",
				data: expect.objectContaining({
					msg_id: sent.body.msg_ids[0],
					content: "live",
					conversation_id: alice,
					status: "DELIVERED",
					online_only: false,
					from_xid: { uid: alice, device_sn: 0 },
					to_xid: { uid: bob, device_sn: 0 },
				}),
			});
		}
		const [own] = await eventsOf(aliceTab, 1);
		expect(own?.data).toMatchObject({ msg_id: sent.body.msg_ids[0], conversation_id: bob, status: "UNREAD" });
		for (const c of [bobPhone, bobLaptop, aliceTab]) c.close();
	});

	it("§6.3 events of one conversation arrive in commit order on every channel", async () => {
		const { bob, aliceToken, bobToken } = await pair();
		const channels = [await connect(asUser(app, bobToken)), await connect(asUser(app, bobToken))];
		const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send(app, aliceToken, { targets: [bob], content: `n${i}` })));
		const ids = replies.map((r) => r.body.msg_ids[0] as number).sort((a, b) => a - b);
		for (const channel of channels) {
			const events = await eventsOf(channel, 50);
			expect(events.map((e) => e.data.msg_id)).toEqual(ids);
			channel.close();
		}
	});

	it("§6.3 a channel survives hibernation (the object evicted) and still receives", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const channel = await connect(asUser(app, bobToken));
		await evictDurableObject(userChannels(env, app.appId, bob));
		channel.socket.send("ping");
		await vi.waitFor(() => expect(channel.texts).toContain("pong"));
		await send(app, aliceToken, { targets: [bob], content: "after hibernation" });
		const [event] = await eventsOf(channel, 1);
		expect(event?.data).toMatchObject({ content: "after hibernation", conversation_id: alice });
		channel.close();
	}, 40_000);

	it("§6.3 a user who is offline gets no push, and loses nothing (history)", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const m = meter();
		try {
			expect((await send(app, aliceToken, { targets: [bob], content: "nobody listens" })).status).toBe(200);
			await new Promise((r) => setTimeout(r, 50));
			expect(m.cost.durableObject).toBe(1); // the conversation's object, and no user's
		} finally {
			m.stop();
		}
		const history = await call("/message/conversation", { app, token: bobToken, query: { opposite_id: alice } });
		expect(history.body.data.messages[0].content).toBe("nobody listens");
	});

	it("§6.3 a closed channel takes its user offline: later sends push nothing", async () => {
		const { bob, aliceToken, bobToken } = await pair();
		const channel = await connect(asUser(app, bobToken));
		channel.close();
		await vi.waitFor(async () => {
			const row = await env.DB.prepare("SELECT 1 FROM online_users WHERE app_id = ? AND user_id = ?").bind(app.appId, bob).first();
			expect(row).toBeNull();
		});
		const m = meter();
		try {
			await send(app, aliceToken, { targets: [bob], content: "gone" });
			await new Promise((r) => setTimeout(r, 50));
			expect(m.cost.durableObject).toBe(1);
		} finally {
			m.stop();
		}
	});
});
