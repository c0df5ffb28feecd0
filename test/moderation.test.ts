// Moderation (docs/API.md, "Moderation"): disabling, enabling and deleting
// users, and who is online — who may, what stops working, what stays.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { USER_TTL_MS } from "../src/db/memo";
import { asUser, closeOf, connect } from "./channels";
import { allMessages, call, createApp, registerUser, send, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

const login = (name: string, password = "secret-pw") => call("/token/user", { app, token: null, body: { name, password } });
const disable = (list: unknown, token = app.adminToken, method = "PUT") => call("/user/disable", { app, token, method, body: { list } });
const enable = (list: unknown, token = app.adminToken) => call("/user/enable", { app, token, method: "PUT", body: { list } });

async function person() {
	const name = `mod-${crypto.randomUUID().slice(0, 8)}`;
	const id = await registerUser(app, name);
	return { name, id, token: await userToken(app, id) };
}

describe("disable and enable", () => {
	it("a disabled user cannot log in (403 once the password is right), their tokens are 401, their channels close (4003); enabling undoes it", async () => {
		const [ann, ben] = [await person(), await person()];
		await send(app, ben.token, { targets: [ann.id], content: "before" });
		const channel = await connect(asUser(app, ann.token));
		expect((await disable([ann.id])).status).toBe(200);
		expect(await closeOf(channel, 5_000)).toMatchObject({ code: 4003 });
		expect((await call("/message/unread", { app, token: ann.token })).status).toBe(401);
		expect((await call("/message/unread", { app, token: ann.token })).body.message).toBe("This user is disabled.");
		expect((await login(ann.name)).status).toBe(403);
		expect((await login(ann.name, "wrong-password")).status).toBe(401); // nothing said without the password
		expect((await call("/token/issue", { app, body: { user_id: ann.id } })).status).toBe(403);
		// Their messages stay; others may still message them; they cannot send (not even through the admin).
		expect((await send(app, ben.token, { targets: [ann.id], content: "while disabled" })).status).toBe(200);
		expect((await send(app, undefined, { from_user_id: ann.id, targets: [ben.id], content: "as ann" })).status).toBe(403);
		expect((await allMessages(app, ben.token, ann.id)).map((m) => m.content).sort()).toEqual(["before", "while disabled"]);
		// Twice is fine; enable brings the login and the old token back.
		expect((await disable([ann.id])).status).toBe(200);
		expect((await enable([ann.id])).status).toBe(200);
		expect((await login(ann.name)).status).toBe(200);
		expect((await call("/message/unread", { app, token: ann.token })).status).toBe(200);
	});

	it("only the admin token; bad lists are 400 and an unknown id 404, each changing nothing", async () => {
		const [ann, ben] = [await person(), await person()];
		const before = await snapshot();
		expect((await disable([ann.id], ben.token)).status).toBe(403);
		expect(
			(await call("/user/disable", { app, method: "PUT", headers: { user_id: String(ben.id) }, body: { list: [ann.id] } })).status,
		).toBe(403);
		for (const list of [[], [ann.id, ann.id], ["x"], [0], Array.from({ length: 101 }, (_, i) => i + 1), "1"]) {
			expect((await disable(list)).status, JSON.stringify(list).slice(0, 30)).toBe(400);
		}
		const unknown = await disable([ann.id, 987_654_321]);
		expect(unknown.status).toBe(404);
		expect(unknown.body.message).toContain("987654321");
		expect(await snapshot()).toBe(before);
		expect((await call("/message/unread", { app, token: ann.token })).status).toBe(200);
		expect((await disable([ann.id], app.adminToken, "POST")).status).toBe(200); // POST too
	});

	it("another isolate learns of a disable within 30 s: a user's standing is remembered that long", async () => {
		const ann = await person();
		expect((await call("/message/unread", { app, token: ann.token })).status).toBe(200); // remembered as active
		// Written behind this isolate's back (as another isolate would): still remembered until the TTL ends.
		const { env } = await import("cloudflare:workers");
		await env.DB.prepare("UPDATE users SET disabled = 1 WHERE id = ?").bind(ann.id).run();
		expect((await call("/message/unread", { app, token: ann.token })).status).toBe(200);
		const later = clock.now() + USER_TTL_MS + 1;
		vi.spyOn(clock, "now").mockReturnValue(later);
		try {
			expect((await call("/message/unread", { app, token: ann.token })).status).toBe(401);
		} finally {
			vi.restoreAllMocks();
		}
	});
});

describe("delete", () => {
	it("a user deletes their own account with their password: no login, no token, no target; their messages stay; the name is never reused", async () => {
		const [ann, ben] = [await person(), await person()];
		await send(app, ann.token, { targets: [ben.id], content: "from ann" });
		const channel = await connect(asUser(app, ann.token));
		expect((await call("/user/delete", { app, token: ann.token, method: "DELETE", body: {} })).status).toBe(400);
		expect((await call("/user/delete", { app, token: ann.token, method: "DELETE", body: { password: "wrong-pw" } })).status).toBe(401);
		expect((await call("/user/online_status", { app, token: ann.token })).body.data).toEqual({ online: true });
		expect((await call("/user/delete", { app, token: ann.token, method: "DELETE", body: { password: "secret-pw" } })).status).toBe(200);
		expect(await closeOf(channel, 5_000)).toMatchObject({ code: 4003 });
		expect((await call("/message/unread", { app, token: ann.token })).status).toBe(401);
		expect((await login(ann.name)).status).toBe(401); // as an unknown user
		expect((await send(app, ben.token, { targets: [ann.id], content: "to a deleted user" })).status).toBe(404);
		expect((await call("/token/issue", { app, body: { user_id: ann.id } })).status).toBe(404);
		expect((await call("/message/unread", { app, headers: { user_id: String(ann.id) } })).status).toBe(404);
		expect((await allMessages(app, ben.token, ann.id)).map((m) => m.content)).toEqual(["from ann"]);
		expect((await call("/user/register/v2", { app, body: { username: ann.name, password: "secret-pw" } })).status).toBe(409);
		expect((await call("/user/delete", { app, method: "POST", headers: { user_id: String(ann.id) }, body: {} })).status).toBe(404);
	});

	it("an admin deletes any user with header user_id and no password; without it, 400; a user token cannot delete another", async () => {
		const [ann, ben] = [await person(), await person()];
		expect((await call("/user/delete", { app, method: "POST", body: {} })).status).toBe(400);
		expect(
			(
				await call("/user/delete", {
					app,
					token: ben.token,
					method: "POST",
					headers: { user_id: String(ann.id) },
					body: { password: "secret-pw" },
				})
			).status,
		).toBe(403);
		expect((await call("/user/delete", { app, method: "POST", headers: { user_id: String(ann.id) }, body: {} })).status).toBe(200);
		expect((await login(ann.name)).status).toBe(401);
		expect((await call("/message/unread", { app, token: ben.token })).status).toBe(200);
	});
});

describe("online status", () => {
	it("is true while the user has an open channel, false after; an admin asks with header user_id", async () => {
		const ann = await person();
		const status = () => call("/user/online_status", { app, headers: { user_id: String(ann.id) } });
		expect((await status()).body.data).toEqual({ online: false });
		const channel = await connect(asUser(app, ann.token));
		expect((await status()).body.data).toEqual({ online: true });
		channel.close();
		await vi.waitFor(async () => expect((await status()).body.data).toEqual({ online: false }), { timeout: 5_000 });
		expect((await call("/user/online_status", { app })).status).toBe(400);
	});
});
