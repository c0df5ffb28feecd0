import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { hashAdminToken } from "../src/auth/adminTokens";
import { allMessages, call, createApp, entryFor, registerUser, send, type TestApp, userToken } from "./support";

describe("app keys: the source service's string AppIDs", () => {
	let first: TestApp;
	let second: TestApp;
	beforeAll(async () => {
		[first, second] = [await createApp({ key: "welovemaxim" }), await createApp({ key: "We_Love-Maxim2" })];
	});

	it("an app named by a string key works through every kind of call", async () => {
		const [alice, bob] = [await registerUser(first), await registerUser(first)];
		const login = await call("/token/id", { app: "welovemaxim", body: { user_id: alice, password: "secret-pw" } });
		expect(login.status).toBe(200);
		const token = login.body.data.token as string;
		expect(JSON.parse(atob((token.split(".")[1] as string).replaceAll("-", "+").replaceAll("_", "/"))).app).toBe("welovemaxim");
		const sent = await send(first, token, { targets: [bob], content: "hello" });
		expect(sent.status).toBe(200);
		expect(await entryFor(first, await userToken(first, bob), alice)).toMatchObject({ num: 1 });
	});

	it("two apps with string keys are isolated: users, messages and tokens of one are not the other's", async () => {
		const [alice, bob] = [await registerUser(first), await registerUser(first)];
		const aliceToken = await userToken(first, alice);
		await send(first, aliceToken, { targets: [bob], content: "only in the first app" });

		// The other app's admin does not see the first app's users ...
		const asOther = await call("/message/conversation", { app: second, headers: { user_id: String(alice) }, query: { opposite_id: bob } });
		expect(asOther.status).toBe(404);
		// ... and an id space of its own: its first user has no history with the first app's users.
		const carol = await registerUser(second);
		const carolToken = await userToken(second, carol);
		expect((await call("/message/conversation", { app: second, token: carolToken, query: { opposite_id: alice } })).status).toBe(404);
		expect((await call("/message/unread", { app: second, token: carolToken })).body.data).toEqual([]);
		expect(await allMessages(first, aliceToken, bob)).toHaveLength(1);
	});

	it("a user token of one app presented with another app's key is 401", async () => {
		const alice = await registerUser(first);
		const token = await userToken(first, alice);
		const reply = await call("/message/unread", { app: second, token });
		expect(reply.status).toBe(401);
		expect(reply.body).toEqual({ code: 401, message: "The access-token is invalid or expired.", data: null });
	});

	it("an admin token of one app presented with another app's key is 401", async () => {
		const reply = await call("/message/unread", { app: second, token: first.adminToken });
		expect(reply.status).toBe(401);
	});

	it.each([
		["empty", ""],
		["65 characters", "k".repeat(65)],
		["a space", "we love"],
		["a slash", "we/love"],
		["unicode", "caf\u00e9"],
		["a dot", "we.love"],
	])("a malformed key (%s) is 400 naming app_id", async (_, key) => {
		const reply = await call("/message/unread", { app: key, token: first.adminToken });
		expect(reply.status).toBe(400);
		expect(reply.body).toEqual({ code: 400, message: 'Header "app_id" must be 1-64 characters from A-Z, a-z, 0-9, _ and -.', data: null });
	});

	it("a key of 64 characters is a key; unknown keys are 401", async () => {
		const long = await createApp({ key: "k".repeat(64) });
		expect((await call("/message/unread", { app: long, headers: { user_id: String(await registerUser(long)) } })).status).toBe(200);
		const reply = await call("/message/unread", { app: "unknown-app", token: first.adminToken });
		expect(reply).toMatchObject({ status: 401, body: { code: 401, message: "Unknown app_id unknown-app.", data: null } });
	});

	it("keys are case-sensitive: another case is another (unknown) app", async () => {
		expect((await call("/message/unread", { app: "WELOVEMAXIM", token: first.adminToken })).status).toBe(401);
	});
});

describe("migration 0003: existing apps keep their number as their key", () => {
	it("an app, its users, messages and a token made before keys go on working under key = its number", async () => {
		await reset();
		const migrations = env.TEST_MIGRATIONS;
		const before = migrations.filter((m) => m.name < "0003");
		expect(before.length).toBeLessThan(migrations.length);
		await applyD1Migrations(env.DB, before);

		// Data as the service wrote it before app keys: a numbered app, two users, a message.
		const adminToken = "adm_legacy-token";
		await env.DB.batch([
			env.DB.prepare(
				"INSERT INTO apps (id, name, admin_token_hash, open_registration, recall_window_s, created_at) VALUES (7, 'legacy', ?, 0, 120, 0)",
			).bind(await hashAdminToken(adminToken)),
			env.DB.prepare("INSERT INTO accounts (id, app_id, kind) VALUES (100, 7, 'user'), (101, 7, 'user')"),
			env.DB.prepare(
				"INSERT INTO users (id, app_id, username, password_hash, created_at) VALUES (100, 7, 'ann', 'x', 0), (101, 7, 'ben', 'x', 0)",
			),
		]);
		// A user token minted before keys carries the app's number.
		const oldToken = await new SignJWT({ app: 7, dsn: 0 })
			.setProtectedHeader({ alg: "HS256" })
			.setSubject("100")
			.setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
			.sign(new TextEncoder().encode(env.TOKEN_SIGNING_KEY));

		await applyD1Migrations(env.DB, migrations);

		const row = await env.DB.prepare("SELECT key FROM apps WHERE id = 7").first<{ key: string }>();
		expect(row?.key).toBe("7");
		const legacy: TestApp = { appId: 7, key: "7", adminToken };
		const sent = await send(legacy, oldToken, { targets: [101], content: "still works" });
		expect(sent.status).toBe(200);
		const asBen = await call("/message/unread", { app: "7", token: adminToken, headers: { user_id: "101" } });
		expect(asBen.body.data).toEqual([expect.objectContaining({ conversation_id: { uid: 100, device_sn: 0 }, num: 1 })]);
		// Keys are unique: a second app cannot take "7".
		await expect(
			env.DB.prepare("INSERT INTO apps (key, name, admin_token_hash, created_at) VALUES ('7', 'dup', 'h', 0)").run(),
		).rejects.toThrow(/UNIQUE/);
	});
});
