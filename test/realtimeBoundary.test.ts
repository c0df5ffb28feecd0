// The trust boundary of realtime channels (docs/API.md, "Real-time delivery"):
// a channel ends with its credentials, every answer of /realtime is a proper
// envelope with x-request-id, and what a client may send is bounded.
import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { hashAdminToken } from "../src/auth/adminTokens";
import { clock } from "../src/clock";
import { MAX_CHANNELS_PER_USER } from "../src/limits";
import { userChannels } from "../src/realtime/push";
import { asUser, type Channel, closeOf, connect, eventsOf } from "./channels";
import { call, createApp, d1Preparers, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

afterEach(() => vi.restoreAllMocks());

async function pair() {
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	return { alice, bob, aliceToken: await userToken(app, alice) };
}

const quiet = () => new Promise((r) => setTimeout(r, 100));

describe("a channel lives no longer than its credentials", () => {
	it("a user token's channel is closed 4001 'token expired' when the token expires, by the alarm, without any traffic", async () => {
		const { bob } = await pair();
		const channel = await connect(asUser(app, await userToken(app, bob, { ttl_s: 3 })));
		const closed = await closeOf(channel, 6_000);
		expect(closed).toEqual({ code: 4001, reason: "token expired" });
	}, 10_000);

	it("after its token expired a channel is sent nothing: the next push closes it 4001 instead (even before the alarm)", async () => {
		const { alice, bob, aliceToken } = await pair();
		const issued = Date.now();
		const channel = await connect(asUser(app, await userToken(app, bob, { ttl_s: 60 })));
		expect((await send(app, aliceToken, { targets: [bob], content: "while valid" })).status).toBe(200);
		const [seen] = await eventsOf(channel, 1);
		// Two minutes on: the token has expired (the sender's token is good for 7 days).
		vi.spyOn(clock, "now").mockReturnValue(issued + 120_000);
		const late = await send(app, aliceToken, { targets: [bob], content: "after expiry" });
		expect(late.status).toBe(200);
		expect(await closeOf(channel)).toEqual({ code: 4001, reason: "token expired" });
		await quiet();
		expect(channel.events.map((e) => e.data.content)).toEqual(["while valid"]);
		vi.restoreAllMocks();
		// The client reconnects with a fresh token and `since`: the message it was not sent comes first, no gap.
		const again = await connect(asUser(app, await userToken(app, bob)), `?since=${seen?.data.msg_id}`);
		const [replayed] = await eventsOf(again, 1);
		expect(replayed).toMatchObject({
			event: "message",
			data: { msg_id: late.body.msg_ids[0], content: "after expiry", conversation_id: alice },
		});
		again.close();
	});

	it("a channel opened with the admin token is checked within 60 s, stays open while the token holds, and is closed 4003 'credentials revoked' after a rotation", async () => {
		const rotating = await createApp();
		const [alice, bob] = [await registerUser(rotating), await registerUser(rotating)];
		const channel = await connect({ app_id: rotating.key, "access-token": rotating.adminToken, user_id: String(bob) });
		const object = userChannels(env, rotating.appId, bob);
		const armed = await runInDurableObject(object, (_, state) => state.storage.getAlarm());
		expect(armed).not.toBeNull();
		expect(Number(armed) - Date.now()).toBeLessThanOrEqual(60_000);
		// The check runs: the token is the app's, the channel stays and still receives.
		expect(await runDurableObjectAlarm(object)).toBe(true);
		await quiet();
		expect(channel.closed).toBeNull();
		expect((await send(rotating, undefined, { from_user_id: alice, targets: [bob], content: "still here" })).status).toBe(200);
		await eventsOf(channel, 1);
		// The check is armed again, and after `npm run app:rotate-token` (a new hash in the app's row) it closes the channel.
		expect(await runInDurableObject(object, (_, state) => state.storage.getAlarm())).not.toBeNull();
		await env.DB.prepare("UPDATE apps SET admin_token_hash = ? WHERE id = ?")
			.bind(await hashAdminToken(`adm_${crypto.randomUUID()}`), rotating.appId)
			.run();
		expect(await runDurableObjectAlarm(object)).toBe(true);
		expect(await closeOf(channel)).toEqual({ code: 4003, reason: "credentials revoked" });
		// Offline now: the presence row is gone.
		await vi.waitFor(async () =>
			expect(
				await env.DB.prepare("SELECT 1 FROM online_users WHERE app_id = ? AND user_id = ?").bind(rotating.appId, bob).first(),
			).toBeNull(),
		);
	});

	it("a user-token channel beside an admin-opened one is not closed by the rotation", async () => {
		const rotating = await createApp();
		const bob = await registerUser(rotating);
		const byAdmin = await connect({ app_id: rotating.key, "access-token": rotating.adminToken, user_id: String(bob) });
		const byToken = await connect(asUser(rotating, await userToken(rotating, bob)));
		await env.DB.prepare("UPDATE apps SET admin_token_hash = ? WHERE id = ?").bind("0".repeat(64), rotating.appId).run();
		await runDurableObjectAlarm(userChannels(env, rotating.appId, bob));
		expect(await closeOf(byAdmin)).toEqual({ code: 4003, reason: "credentials revoked" });
		await quiet();
		expect(byToken.closed).toBeNull();
		byToken.close();
	});
});

describe("every answer of /realtime", () => {
	const open = (headers: Record<string, string>) =>
		SELF.fetch("https://im.test/realtime", { headers: { upgrade: "websocket", ...headers } });

	it("the 101 carries x-request-id", async () => {
		const { bob } = await pair();
		const response = await open(asUser(app, await userToken(app, bob)));
		expect(response.status).toBe(101);
		expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		response.webSocket?.accept();
		response.webSocket?.close(1000, "done");
	});

	it(`the ${MAX_CHANNELS_PER_USER + 1}st channel of a user is 429 with Retry-After, the envelope and x-request-id (never 500)`, async () => {
		const { bob } = await pair();
		const headers = asUser(app, await userToken(app, bob));
		const channels: Channel[] = [];
		for (let i = 0; i < MAX_CHANNELS_PER_USER; i++) channels.push(await connect(headers));
		const refused = await open(headers);
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(refused.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		expect(refused.webSocket).toBeNull();
		expect(await refused.json()).toMatchObject({ code: 429, data: null, message: expect.stringContaining(`${MAX_CHANNELS_PER_USER}`) });
		for (const c of channels) c.close();
	});

	it("the object's failure (D1 down while it opens the channel) is 503 with Retry-After and x-request-id", async () => {
		const { bob } = await pair();
		const headers = asUser(app, await userToken(app, bob));
		for (const preparer of d1Preparers) {
			const real = preparer.prepare;
			vi.spyOn(preparer, "prepare").mockImplementation(function (this: unknown, query: string) {
				if (query.includes("online_users")) throw new Error("D1_ERROR: Network connection lost. (injected)");
				return real.call(this, query);
			});
		}
		const refused = await open(headers);
		expect(refused.status).toBe(503);
		expect(refused.headers.get("retry-after")).toBe("1");
		expect(refused.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		expect(await refused.json()).toMatchObject({ code: 503, data: null });
	});

	it("401 and 426 carry x-request-id too", async () => {
		for (const response of [await open({ app_id: app.key, "access-token": "nope" }), await SELF.fetch("https://im.test/realtime")]) {
			expect([401, 426]).toContain(response.status);
			expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		}
	});
});

describe("what a client may send", () => {
	async function channel() {
		const { bob } = await pair();
		return connect(asUser(app, await userToken(app, bob)));
	}

	it("a frame is measured in UTF-8 bytes: 600 'é' (1,200 bytes, 600 characters) closes the channel 1009", async () => {
		const c = await channel();
		c.socket.send("é".repeat(600));
		expect((await closeOf(c)).code).toBe(1009);
	});

	it("a frame of exactly 1,024 bytes is allowed; 1,025 closes 1009", async () => {
		const c = await channel();
		c.socket.send("x".repeat(1024));
		c.socket.send("ping");
		await vi.waitFor(() => expect(c.texts).toContain("pong"));
		expect(c.closed).toBeNull();
		c.socket.send(new Uint8Array(1025));
		expect((await closeOf(c)).code).toBe(1009);
	});

	it("pings never count (100 are answered, the channel stays); 20 other frames in 10 s are allowed, the 21st closes it 1008", async () => {
		const c = await channel();
		for (let i = 0; i < 100; i++) c.socket.send("ping");
		await vi.waitFor(() => expect(c.texts.filter((t) => t === "pong")).toHaveLength(100));
		for (let i = 0; i < 20; i++) c.socket.send(`hello ${i}`);
		c.socket.send("ping");
		await vi.waitFor(() => expect(c.texts.filter((t) => t === "pong")).toHaveLength(101));
		expect(c.closed).toBeNull();
		c.socket.send("one too many");
		expect((await closeOf(c)).code).toBe(1008);
	});

	it("the frame window starts over after 10 s", async () => {
		const c = await channel();
		const start = Date.now();
		for (let i = 0; i < 20; i++) c.socket.send(`early ${i}`);
		c.socket.send("ping");
		await vi.waitFor(() => expect(c.texts).toContain("pong"));
		vi.spyOn(clock, "now").mockReturnValue(start + 11_000);
		for (let i = 0; i < 20; i++) c.socket.send(`later ${i}`);
		c.socket.send("ping");
		await vi.waitFor(() => expect(c.texts.filter((t) => t === "pong")).toHaveLength(2));
		expect(c.closed).toBeNull();
		c.close();
	});
});

describe("the checks cost nothing where they are not needed", () => {
	it("a user-token channel arms one alarm, at its token's expiry", async () => {
		const { bob } = await pair();
		const before = Date.now();
		const c = await connect(asUser(app, await userToken(app, bob, { ttl_s: 3600 })));
		const armed = await runInDurableObject(userChannels(env, app.appId, bob), (_, state) => state.storage.getAlarm());
		expect(Number(armed)).toBeGreaterThan(before + 3590_000);
		expect(Number(armed)).toBeLessThanOrEqual(before + 3601_000);
		c.close();
		await call("/healthz");
	});
});
