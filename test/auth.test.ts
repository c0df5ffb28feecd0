import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { hashAdminToken } from "../src/auth/adminTokens";
import { clock } from "../src/clock";
import { meter } from "./meter";
import { call, createApp, history, type Reply, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;
let other: TestApp;
let alice: number;
let bob: number;
let aliceToken: string;

beforeAll(async () => {
	[app, other] = [await createApp(), await createApp()];
	[alice, bob] = [await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
	await send(app, aliceToken, { targets: [bob], content: "private to app 1" });
});

afterEach(() => vi.restoreAllMocks());

const sign = (claims: Record<string, unknown>, sub: string, expSeconds: number, key = env.TOKEN_SIGNING_KEY) =>
	new SignJWT(claims)
		.setProtectedHeader({ alg: "HS256" })
		.setSubject(sub)
		.setExpirationTime(expSeconds)
		.sign(new TextEncoder().encode(key));

describe("tenancy: the app_id header", () => {
	it("a missing app_id is 400 naming the header", async () => {
		const reply = await call("/message/conversation", { token: app.adminToken, query: { opposite_id: alice } });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toBe('Header "app_id" is required.');
	});

	it.each(["", "a b", "a/b", "caf\u00e9", "1.5", "x".repeat(65)])("a malformed app_id %j is 400", async (appId) => {
		const reply = await call("/message/conversation", { token: app.adminToken, headers: { app_id: appId }, query: { opposite_id: alice } });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"app_id"');
	});

	it("an unknown app is 401", async () => {
		for (const key of ["987654", "no-such-app"]) {
			const reply = await call("/message/conversation", { app: key, token: app.adminToken, query: { opposite_id: alice } });
			expect(reply.status).toBe(401);
			expect(reply.body).toEqual({ code: 401, message: `Unknown app_id ${key}.`, data: null });
		}
	});
});

describe("credentials: the access-token header", () => {
	it("a missing access-token is 401", async () => {
		const reply = await call("/message/conversation", { app, token: null, query: { opposite_id: alice } });
		expect(reply.status).toBe(401);
		expect(reply.body.message).toBe('Header "access-token" is required.');
	});

	it("a wrong admin token is 401", async () => {
		const reply = await call("/message/conversation", { app, token: "adm_wrong", query: { opposite_id: alice } });
		expect(reply.status).toBe(401);
	});

	it("the admin token of another app is 401", async () => {
		const reply = await call("/message/conversation", {
			app,
			token: other.adminToken,
			headers: { user_id: String(alice) },
			query: { opposite_id: bob },
		});
		expect(reply.status).toBe(401);
	});

	it("a wrong admin token is checked against D1 once, then refused from memory for a minute (a new one still works at once)", async () => {
		const own = await createApp();
		const wrong = `adm_${"0".repeat(64)}`;
		await call("/message/unread", { app: own, token: own.adminToken, headers: { user_id: String(alice) } }); // warm the app memo
		const m = meter();
		try {
			expect((await call("/healthz", {})).status).toBe(200);
			const first = await call("/app/settings", { app: own, token: wrong });
			expect(first.status).toBe(401);
			expect(m.cost.d1).toBe(1);
			for (let i = 0; i < 5; i++) expect((await call("/app/settings", { app: own, token: wrong })).status).toBe(401);
			expect(m.cost.d1).toBe(1);
		} finally {
			m.stop();
		}
		expect((await call("/app/settings", { app: own })).status).toBe(200);
	});

	it("admin tokens are compared in constant time", async () => {
		const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
		await call("/message/conversation", { app, token: `adm_wrong_${crypto.randomUUID()}`, query: { opposite_id: alice } });
		// Checked against the remembered app, then once more against D1 (a token may have rotated).
		expect(spy).toHaveBeenCalledTimes(2);
		for (const [a, b] of spy.mock.calls as [ArrayBufferView, ArrayBufferView][]) expect(a.byteLength).toBe(b.byteLength);
	});

	it("a user token of another app is 401", async () => {
		const stranger = await registerUser(other);
		const token = await userToken(other, stranger);
		const reply = await call("/message/conversation", { app, token, query: { opposite_id: alice } });
		expect(reply.status).toBe(401);
	});

	it("an expired user token is 401", async () => {
		const token = await sign({ app: app.key, dsn: 0 }, String(alice), Math.floor(Date.now() / 1000) - 10);
		const reply = await history(app, token, { opposite_id: bob });
		expect(reply.status).toBe(401);
		expect(reply.body.message).toBe("The access-token is invalid or expired.");
	});

	it("a verified user token is remembered until its exp, and refused from then on", async () => {
		const exp = Math.floor(Date.now() / 1000) + 60;
		const token = await sign({ app: app.key, dsn: 0 }, String(alice), exp);
		const verify = vi.spyOn(crypto.subtle, "verify");
		expect((await history(app, token, { opposite_id: bob })).status).toBe(200);
		expect((await history(app, token, { opposite_id: bob })).status).toBe(200);
		expect(verify).toHaveBeenCalledTimes(1); // the second request did not verify the signature again
		vi.spyOn(clock, "now").mockReturnValue(exp * 1000);
		const late = await history(app, token, { opposite_id: bob });
		expect(late.status).toBe(401);
		expect(late.body.message).toBe("The access-token is invalid or expired.");
	});

	it("a remembered token still names its own app: another app's app_id is 401", async () => {
		expect((await history(app, aliceToken, { opposite_id: bob })).status).toBe(200);
		const reply = await call("/message/conversation", { app: other, token: aliceToken, query: { opposite_id: bob } });
		expect(reply.status).toBe(401);
	});

	it("a user token without exp (signed with the real key) is 401; the same claims with exp are 200", async () => {
		const key = new TextEncoder().encode(env.TOKEN_SIGNING_KEY);
		const forever = await new SignJWT({ app: app.key, dsn: 0 }).setProtectedHeader({ alg: "HS256" }).setSubject(String(alice)).sign(key);
		const reply = await history(app, forever, { opposite_id: bob });
		expect(reply.status).toBe(401);
		expect(reply.body.message).toBe("The access-token is invalid or expired.");
		const bounded = await sign({ app: app.key, dsn: 0 }, String(alice), Math.floor(Date.now() / 1000) + 60);
		expect((await history(app, bounded, { opposite_id: bob })).status).toBe(200);
	});

	it("a tampered user token is 401", async () => {
		const [header, , signature] = aliceToken.split(".");
		const forged = btoa(JSON.stringify({ app: app.key, dsn: 0, sub: String(bob), exp: 4102444800 }))
			.replace(/=+$/, "")
			.replace(/\+/g, "-")
			.replace(/\//g, "_");
		expect((await history(app, `${header}.${forged}.${signature}`, { opposite_id: alice })).status).toBe(401);
		const flipped = aliceToken.slice(0, -2) + (aliceToken.endsWith("A") ? "BB" : "AA");
		expect((await history(app, flipped, { opposite_id: bob })).status).toBe(401);
	});

	it("a token signed with another key, or with alg none, is 401", async () => {
		const otherKey = await sign({ app: app.key, dsn: 0 }, String(alice), 4102444800, "another-key-of-at-least-32-characters!!");
		expect((await history(app, otherKey, { opposite_id: bob })).status).toBe(401);
		const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "");
		const none = `${b64({ alg: "none" })}.${b64({ app: app.key, dsn: 0, sub: String(alice), exp: 4102444800 })}.x`;
		expect((await history(app, none, { opposite_id: bob })).status).toBe(401);
	});
});

describe("acting identity", () => {
	it("a user token with a user_id header naming another user is 403", async () => {
		const reply = await history(app, aliceToken, { opposite_id: bob });
		expect(reply.status).toBe(200);
		const foreign = await call("/message/conversation", {
			app,
			token: aliceToken,
			headers: { user_id: String(bob) },
			query: { opposite_id: alice },
		});
		expect(foreign.status).toBe(403);
		const same = await call("/message/conversation", {
			app,
			token: aliceToken,
			headers: { user_id: String(alice) },
			query: { opposite_id: bob },
		});
		expect(same.status).toBe(200);
	});

	it("a user token with a group_id header is 403", async () => {
		const reply = await call("/message/conversation", { app, token: aliceToken, headers: { group_id: "5" }, query: { opposite_id: bob } });
		expect(reply.status).toBe(403);
	});

	it("admin + user_id acts exactly as that user", async () => {
		const asBob = await call("/message/conversation", { app, headers: { user_id: String(bob) }, query: { opposite_id: alice } });
		expect(asBob.status).toBe(200);
		expect(asBob.body.data.messages[0]).toMatchObject({ content: "private to app 1", status: "DELIVERED" });
		const sent = await call("/message/send", {
			app,
			headers: { user_id: String(bob) },
			body: { type: 1, targets: [alice], content_type: 0, content: "as bob" },
		});
		expect(sent.status).toBe(200);
		const page = await history(app, aliceToken, { opposite_id: bob });
		expect(page.body.data.messages[0]).toMatchObject({ content: "as bob", from_xid: { uid: bob } });
	});

	it("acting is logged only where the deployment asks (AUDIT_ADMIN_ACTING): who acted for whom, with the request id", async () => {
		const logged = vi.spyOn(console, "log").mockImplementation(() => {});
		const linesOf = (reply: Reply) =>
			logged.mock.calls.map(([l]) => String(l)).filter((l) => l.includes(reply.headers.get("x-request-id") as string));
		const asBob = () => call("/message/conversation", { app, headers: { user_id: String(bob) }, query: { opposite_id: alice } });
		const made = await call("/group/create", { app, headers: { user_id: String(alice) }, body: { name: "audited", user_list: [bob] } });
		const groupId = String(made.body.data.group_id);
		const forGroup = () => call("/group/member_list", { app, headers: { group_id: groupId }, query: { group_id: groupId } });

		// The default (wrangler.toml): acting is how app backends normally call, so it is not logged.
		for (const reply of [await asBob(), await forGroup()]) {
			expect(reply.status).toBe(200);
			expect(linesOf(reply)).toEqual([]);
		}
		const vars = env as unknown as Record<string, string>;
		vars.AUDIT_ADMIN_ACTING = "true";
		try {
			const [user, group] = [await asBob(), await forGroup()];
			expect(linesOf(user).map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ appId: app.key, adminActingAs: bob })]);
			expect(linesOf(group).map((l) => JSON.parse(l))).toEqual([
				expect.objectContaining({ appId: app.key, adminActingForGroup: Number(groupId) }),
			]);
		} finally {
			vars.AUDIT_ADMIN_ACTING = "false";
		}
	});

	it("admin + user_id of a user who does not exist is 404", async () => {
		const reply = await call("/message/conversation", { app, headers: { user_id: "999999" }, query: { opposite_id: alice } });
		expect(reply.status).toBe(404);
		expect(reply.body.message).toBe("User 999999 does not exist.");
	});

	it("history called by the admin without user_id is 400 naming the header", async () => {
		const reply = await call("/message/conversation", { app, query: { opposite_id: alice } });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"user_id"');
	});
});

describe("nothing of one app is visible to another", () => {
	it("another app cannot name this app's users, read their history or message them", async () => {
		const stranger = await registerUser(other);
		const strangerToken = await userToken(other, stranger);
		expect(
			(await call("/message/conversation", { app: other, headers: { user_id: String(alice) }, query: { opposite_id: bob } })).status,
		).toBe(404);
		expect((await history(other, strangerToken, { opposite_id: alice })).status).toBe(404);
		expect((await send(other, strangerToken, { targets: [alice], content: "hi" })).status).toBe(404);
		expect((await call("/token/id", { app: other, token: null, body: { user_id: alice, password: "secret-pw" } })).status).toBe(401);
	});

	it("the same username can exist in two apps as two users", async () => {
		const a = await call("/user/register/v2", { app, body: { username: "same-name", password: "secret-pw" } });
		const b = await call("/user/register/v2", { app: other, body: { username: "same-name", password: "secret-pw" } });
		expect(a.status).toBe(200);
		expect(b.status).toBe(200);
		expect(a.body.data.user_id).not.toBe(b.body.data.user_id);
	});
});

describe("admin token rotation", () => {
	it("a rotated admin token works at once; the old one stops within the 60 s app memo", async () => {
		const rotating = await createApp();
		const user = await registerUser(rotating);
		const asAdmin = (token: string) =>
			call("/message/conversation", { app: rotating, token, headers: { user_id: String(user) }, query: { opposite_id: 0 } });
		expect((await asAdmin(rotating.adminToken)).status).toBe(200);
		const newToken = "adm_rotated_0123456789abcdef";
		await env.DB.prepare("UPDATE apps SET admin_token_hash = ? WHERE id = ?")
			.bind(await hashAdminToken(newToken), rotating.appId)
			.run();
		expect((await asAdmin(newToken)).status).toBe(200);
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 61_000);
		expect((await asAdmin(rotating.adminToken)).status).toBe(401);
	});
});
