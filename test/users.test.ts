import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, createApp, history, registerUser, send, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

const storedHash = async (userId: number) =>
	(await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId).first<{ password_hash: string }>())?.password_hash;

describe("POST /user/register/v2", () => {
	it("the admin registers a user and gets {user_id, username}", async () => {
		const reply = await call("/user/register/v2", { app, body: { username: "ann", password: "ann-password", nick_name: "ignored" } });
		expect(reply.status).toBe(200);
		expect(reply.body).toEqual({ code: 200, message: "", data: { user_id: expect.any(Number), username: "ann" } });
	});

	it("a duplicate username is 409", async () => {
		await registerUser(app, "dup-name");
		const reply = await call("/user/register/v2", { app, body: { username: "dup-name", password: "another-pw" } });
		expect(reply.status).toBe(409);
		expect(reply.body.message).toBe('Username "dup-name" is already taken.');
	});

	it("passwords are stored with a slow salted hash", async () => {
		const [a, b] = [await registerUser(app, "salt-a", "same-password"), await registerUser(app, "salt-b", "same-password")];
		const [ha, hb] = [await storedHash(a), await storedHash(b)];
		expect(ha).toMatch(/^pbkdf2-sha256\$\d+\$/);
		expect(ha).not.toContain("same-password");
		expect(ha).not.toBe(hb);
	});

	it("registration needs the admin token unless the app allows open registration", async () => {
		const user = await registerUser(app);
		const token = await userToken(app, user);
		expect((await call("/user/register/v2", { app, token, body: { username: "by-user", password: "secret-pw" } })).status).toBe(403);
		expect((await call("/user/register/v2", { app, token: null, body: { username: "anon", password: "secret-pw" } })).status).toBe(401);

		const open = await createApp({ openRegistration: true });
		const reply = await call("/user/register/v2", { app: open, token: null, body: { username: "anon", password: "secret-pw" } });
		expect(reply.status).toBe(200);
	});

	it.each([
		[{ password: "secret-pw" }, 'Field "username" is required.'],
		[{ username: "", password: "secret-pw" }, 'Field "username" must be 1 to 64 characters without leading or trailing spaces.'],
		[
			{ username: "x".repeat(65), password: "secret-pw" },
			'Field "username" must be 1 to 64 characters without leading or trailing spaces.',
		],
		[{ username: 12, password: "secret-pw" }, 'Field "username" must be a string.'],
		[{ username: "short-pw", password: "12345" }, 'Field "password" must be 6 to 128 characters.'],
		[{ username: "no-pw" }, 'Field "password" is required.'],
	])("a bad registration %j is 400 naming the field", async (body, message) => {
		const reply = await call("/user/register/v2", { app, body });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toBe(message);
	});

	it.each([
		["NUL", "ann\u0000admin"],
		["a newline", "ann\nadmin"],
		["a tab", "ann\tadmin"],
		["DEL", "ann\u007f"],
		["a C1 control", "ann\u0085x"],
		["a right-to-left override", "ann\u202egpj.exe"],
		["a left-to-right embedding", "\u202aann"],
		["a first-strong isolate", "ann\u2068x\u2069"],
	])("names: a username holding %s is 400 naming the rule, and nobody is registered", async (_, name) => {
		const before = await snapshot();
		for (const path of ["/user/register/v2", "/user/register/batch"]) {
			const body = path.endsWith("v2") ? { username: name, password: "secret-pw" } : { list: [{ username: name, password: "secret-pw" }] };
			const reply = await call(path, { app, body });
			expect(reply.status).toBe(400);
			expect(reply.body.message).toContain("control characters");
		}
		expect(await snapshot()).toBe(before);
	});

	it("names: emoji sequences with a zero-width joiner, and other scripts, are fine", async () => {
		for (const name of ["👩\u200d💻 dev", "אבי", "José Ñ"]) {
			const reply = await call("/user/register/v2", {
				app,
				body: { username: `${name} ${crypto.randomUUID().slice(0, 4)}`, password: "secret-pw" },
			});
			expect(reply.status).toBe(200);
		}
	});
});

describe("POST /user/register/batch", () => {
	it("returns one row per item: {user_id, username, success, reason}", async () => {
		await registerUser(app, "batch-taken");
		const reply = await call("/user/register/batch", {
			app,
			body: {
				list: [
					{ username: "batch-1", password: "secret-pw" },
					{ username: "batch-taken", password: "secret-pw" },
					{ username: "batch-2", password: "secret-pw" },
					{ username: "batch-1", password: "secret-pw" },
				],
			},
		});
		expect(reply.status).toBe(200);
		const rows = reply.body.data;
		expect(rows).toEqual([
			{ user_id: expect.any(Number), username: "batch-1", success: true, reason: "" },
			{ user_id: 0, username: "batch-taken", success: false, reason: "username is taken" },
			{ user_id: expect.any(Number), username: "batch-2", success: true, reason: "" },
			{ user_id: 0, username: "batch-1", success: false, reason: "username is repeated in the list" },
		]);
		expect(rows[0].user_id).not.toBe(rows[2].user_id);
		const login = await call("/token/user", { app, token: null, body: { name: "batch-2", password: "secret-pw" } });
		expect(login.body.data.user_id).toBe(rows[2].user_id);
	});

	it("batch registration is admin only, and its list is bounded", async () => {
		const user = await registerUser(app);
		const token = await userToken(app, user);
		expect((await call("/user/register/batch", { app, token, body: { list: [{ username: "z", password: "secret-pw" }] } })).status).toBe(
			403,
		);
		expect((await call("/user/register/batch", { app, body: { list: [] } })).status).toBe(400);
		const tooMany = Array.from({ length: 101 }, (_, i) => ({ username: `many-${i}`, password: "secret-pw" }));
		const reply = await call("/user/register/batch", { app, body: { list: tooMany } });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toBe('Field "list" must hold at most 100 users.');
	});
});

describe("POST /token/user and /token/id", () => {
	it("a username + password gives a 7-day token that works on the API", async () => {
		const id = await registerUser(app, "login-name", "login-password");
		const before = Date.now();
		const reply = await call("/token/user", { app, token: null, body: { name: "login-name", password: "login-password" } });
		expect(reply.status).toBe(200);
		expect(reply.body.data).toEqual({ token: expect.any(String), user_id: id, expire: expect.any(Number) });
		const sevenDays = 7 * 24 * 3600 * 1000;
		expect(reply.body.data.expire).toBeGreaterThanOrEqual(before + sevenDays - 1000);
		expect(reply.body.data.expire).toBeLessThanOrEqual(Date.now() + sevenDays);
		const peer = await registerUser(app);
		expect((await history(app, reply.body.data.token, { opposite_id: peer })).status).toBe(200);
	});

	it("a user id + password gives a token", async () => {
		const id = await registerUser(app, "id-login", "id-password");
		const reply = await call("/token/id", { app, token: null, body: { user_id: id, password: "id-password" } });
		expect(reply.status).toBe(200);
		expect(reply.body.data.user_id).toBe(id);
	});

	it("a wrong password and an unknown user get the same 401", async () => {
		const id = await registerUser(app, "wrong-pw", "right-password");
		const replies = [
			await call("/token/user", { app, token: null, body: { name: "wrong-pw", password: "bad-password" } }),
			await call("/token/user", { app, token: null, body: { name: "nobody-here", password: "bad-password" } }),
			await call("/token/id", { app, token: null, body: { user_id: id, password: "bad-password" } }),
			await call("/token/id", { app, token: null, body: { user_id: 999999, password: "bad-password" } }),
		];
		for (const reply of replies) expect(reply.body).toEqual({ code: 401, message: "The user or password is incorrect.", data: null });
	});

	it("the device_sn given at login is carried by the token", async () => {
		const id = await registerUser(app, "device-user", "device-pw");
		const peer = await registerUser(app);
		const login = await call("/token/user", { app, token: null, body: { name: "device-user", password: "device-pw", device_sn: 7 } });
		await send(app, login.body.data.token, { targets: [peer], content: "from device 7" });
		const page = await history(app, login.body.data.token, { opposite_id: peer });
		expect(page.body.data.messages[0].from_xid).toEqual({ uid: id, device_sn: 7 });
	});
});

describe("POST /token/issue", () => {
	it("the admin mints a token with a chosen ttl_s and device_sn", async () => {
		const id = await registerUser(app);
		const before = Date.now();
		const reply = await call("/token/issue", { app, body: { user_id: id, device_sn: 3, ttl_s: 60 } });
		expect(reply.status).toBe(200);
		expect(reply.body.data.user_id).toBe(id);
		expect(reply.body.data.expire).toBeGreaterThanOrEqual(before + 59_000);
		expect(reply.body.data.expire).toBeLessThanOrEqual(Date.now() + 60_000);
	});

	it.each([0, -5, 30 * 24 * 3600 + 1, "abc", 1.5])("ttl_s %j is 400", async (ttl) => {
		const id = await registerUser(app);
		const reply = await call("/token/issue", { app, body: { user_id: id, ttl_s: ttl } });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"ttl_s"');
	});

	it("only the admin may mint tokens, and only for existing users", async () => {
		const id = await registerUser(app);
		const token = await userToken(app, id);
		expect((await call("/token/issue", { app, token, body: { user_id: id } })).status).toBe(403);
		expect((await call("/token/issue", { app, body: { user_id: 999999 } })).status).toBe(404);
	});
});
