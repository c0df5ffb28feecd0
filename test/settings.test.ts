// docs/API.md "Message callbacks" app settings: read, change, validation, who may, and when a
// change takes effect.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { receiver, setSettings } from "./receiver";
import { call, createApp, recall, registerUser, send, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp({ key: `settings-${crypto.randomUUID().slice(0, 6)}` });
});

describe("app settings", () => {
	it("GET /app/settings answers the defaults, named by the app key", async () => {
		const reply = await call("/app/settings", { app });
		expect(reply.status).toBe(200);
		expect(reply.body.data).toEqual({
			app_id: app.key,
			name: "test",
			recall_window_s: 120,
			open_registration: false,
			callback_url: "",
			callback_secret_set: false,
			callback_events: ["CHAT", "GROUPCHAT", "APPEND", "REPLACE"],
			callback_max_attempts: 10,
			send_rate_per_min: 0,
			callback_user_ids: [],
		});
	});

	it("POST changes any subset and answers the settings after it; the secret is never returned", async () => {
		const other = await createApp();
		const secret = "s3cret-s3cret-s3cret";
		const reply = await call("/app/settings", {
			app: other,
			body: {
				name: "renamed",
				recall_window_s: 30,
				open_registration: true,
				callback_url: "https://bot.example.com/im?x=1",
				callback_secret: secret,
				callback_events: ["READ", "CHAT"],
				callback_max_attempts: 3,
				send_rate_per_min: 600,
			},
		});
		expect(reply.status).toBe(200);
		const expected = {
			app_id: other.key,
			name: "renamed",
			recall_window_s: 30,
			open_registration: true,
			callback_url: "https://bot.example.com/im?x=1",
			callback_secret_set: true,
			callback_events: ["READ", "CHAT"],
			callback_max_attempts: 3,
			send_rate_per_min: 600,
			callback_user_ids: [],
		};
		expect(reply.body.data).toEqual(expected);
		const read = await call("/app/settings", { app: other });
		expect(read.body.data).toEqual(expected);
		expect(JSON.stringify(read.body)).not.toContain(secret);
		// A subset leaves the rest; "" removes the URL; [] calls nothing back.
		const partial = await call("/app/settings", { app: other, body: { callback_url: "", callback_events: [] } });
		expect(partial.body.data).toEqual({ ...expected, callback_url: "", callback_events: [] });
		expect((await call("/app/settings", { app: other, body: {} })).body.data).toEqual(partial.body.data);
	});

	const bad: [string, Record<string, unknown>][] = [
		["callback_url", { callback_url: "ftp://bot.example.com/" }],
		["callback_url", { callback_url: "not a url" }],
		["callback_url", { callback_url: "http://" }],
		["callback_url", { callback_url: 42 }],
		["callback_url", { callback_url: `https://bot.example.com/${"a".repeat(2048)}` }],
		["callback_url", { callback_url: "https://user:pw@bot.example.com/" }],
		["callback_url", { callback_url: "https://bot.example.com:70000/" }],
		["callback_secret", { callback_secret: "too-short" }],
		["callback_secret", { callback_secret: "x".repeat(257) }],
		["callback_secret", { callback_secret: 1234567890123456 }],
		["callback_events", { callback_events: ["CHAT", "CHAT"] }],
		["callback_events", { callback_events: ["PING"] }],
		["callback_events", { callback_events: "CHAT" }],
		["callback_events", { callback_events: ["chat"] }],
		["callback_max_attempts", { callback_max_attempts: 0 }],
		["callback_max_attempts", { callback_max_attempts: 21 }],
		["callback_max_attempts", { callback_max_attempts: 1.5 }],
		["send_rate_per_min", { send_rate_per_min: -1 }],
		["send_rate_per_min", { send_rate_per_min: 100_001 }],
		["recall_window_s", { recall_window_s: -5 }],
		["open_registration", { open_registration: "yes" }],
		["name", { name: "" }],
		["callback_ur", { callback_ur: "https://bot.example.com/" }],
		// One bad value among good ones: none of them is applied.
		["callback_max_attempts", { callback_url: "https://ok.example.com/", callback_secret: "a-good-secret-123", callback_max_attempts: 99 }],
	];

	it(`a bad value is 400 naming the field and changes nothing (${bad.length} cases)`, async () => {
		const before = await snapshot();
		for (const [field, body] of bad) {
			const reply = await call("/app/settings", { app, body });
			expect(reply.status, JSON.stringify(body)).toBe(400);
			expect(reply.body.message, JSON.stringify(body)).toContain(field);
		}
		expect(await snapshot()).toBe(before);
	});

	it("only the app admin token: a user token (or an admin acting as a user) is 403 and changes nothing", async () => {
		const user = await registerUser(app);
		const token = await userToken(app, user);
		const before = await snapshot();
		expect((await call("/app/settings", { app, token })).status).toBe(403);
		expect((await call("/app/settings", { app, token, body: { name: "mine" } })).status).toBe(403);
		expect((await call("/app/settings", { app, headers: { user_id: String(user) }, body: { name: "mine" } })).status).toBe(403);
		expect((await call("/app/settings", { app, token: "wrong" })).status).toBe(401);
		expect(await snapshot()).toBe(before);
	});

	it("a deployment refuses plain-http and private, loopback and link-local callback URLs unless it allows them", async () => {
		const deployed = { ...env, CALLBACK_ALLOW_PRIVATE: "false" } as Env;
		const before = await snapshot();
		for (const url of [
			"http://bot.example.com/",
			"https://127.0.0.1/",
			"https://10.1.2.3/",
			"https://172.16.0.1/",
			"https://192.168.1.1/",
			"https://169.254.169.254/",
			"https://localhost:8443/",
			"https://0.0.0.0/",
		]) {
			const reply = await call("/app/settings", { app, env: deployed, body: { callback_url: url } });
			expect(reply.status, url).toBe(400);
			expect(reply.body.message, url).toContain("callback_url");
		}
		expect(await snapshot()).toBe(before);
		const ok = await call("/app/settings", { app, env: deployed, body: { callback_url: "https://8.8.8.8/hook" } });
		expect(ok.status).toBe(200);
		// Local dev (and these tests) allow loopback.
		expect((await call("/app/settings", { app, body: { callback_url: "http://127.0.0.1:9000/cb" } })).status).toBe(200);
		await setSettings(app, { callback_url: "" });
	});

	it("a change takes effect for the next request: the callback URL and events, and the recall window", async () => {
		const fresh = await createApp();
		const [alice, bob] = [await registerUser(fresh), await registerUser(fresh)];
		const aliceToken = await userToken(fresh, alice);
		const hook = receiver();
		const before = await send(fresh, aliceToken, { targets: [bob], content: "before" });
		await setSettings(fresh, { callback_url: hook.url });
		const after = await send(fresh, aliceToken, { targets: [bob], content: "after" });
		const [first] = await hook.count(1);
		expect(first?.body.msgId).toBe(String(after.body.msg_ids[0]));
		await setSettings(fresh, { callback_events: ["GROUPCHAT"] });
		await send(fresh, aliceToken, { targets: [bob], content: "not called back" });
		await setSettings(fresh, { callback_events: ["CHAT"] });
		const last = await send(fresh, aliceToken, { targets: [bob], content: "called back" });
		const all = await hook.count(2);
		expect(all.map((r) => r.body.content)).toEqual(["after", "called back"]);
		expect(all[1]?.body.msgId).toBe(String(last.body.msg_ids[0]));
		expect(before.body.msg_ids[0]).toBeLessThan(after.body.msg_ids[0]);

		// recall_window_s 0: the sender's own recall is refused at once.
		const sent = await send(fresh, aliceToken, { targets: [bob], content: "recall me" });
		await setSettings(fresh, { recall_window_s: 0 });
		expect((await recall(fresh, aliceToken, bob, sent.body.msg_ids[0])).status).toBe(403);
	});
});
