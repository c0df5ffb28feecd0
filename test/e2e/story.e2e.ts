import { beforeAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { rotateToken } from "../../scripts/devServer.mjs";
import { admin, request } from "./client";

const run = Date.now().toString(36); // usernames unique per run
let alice: number;
let bob: number;
let aliceToken: string;

beforeAll(async () => {
	const a = await request("POST", "/user/register/v2", {
		headers: admin(),
		body: { username: `alice-${run}`, password: "alice-password" },
	});
	const b = await request("POST", "/user/register/v2", { headers: admin(), body: { username: `bob-${run}`, password: "bob-password" } });
	expect([a.status, b.status]).toEqual([200, 200]);
	alice = a.body.data.user_id;
	bob = b.body.data.user_id;
});

describe("e2e: a client's story over HTTP", () => {
	it("health answers without credentials", async () => {
		const reply = await request("GET", "/healthz");
		expect(reply.body).toEqual({ code: 200, message: "", data: "ok" });
		expect(reply.headers.get("x-request-id")).toBeTruthy();
	});

	it("logs in by name and by id", async () => {
		const byName = await request("POST", "/token/user", {
			headers: { app_id: "1" },
			body: { name: `alice-${run}`, password: "alice-password" },
		});
		expect(byName.status).toBe(200);
		expect(byName.body.data.user_id).toBe(alice);
		aliceToken = byName.body.data.token;
		const byId = await request("POST", "/token/id", { headers: { app_id: "1" }, body: { user_id: String(bob), password: "bob-password" } });
		expect(byId.status).toBe(200);
		const wrong = await request("POST", "/token/id", { headers: { app_id: "1" }, body: { user_id: bob, password: "nope-nope" } });
		expect(wrong.status).toBe(401);
	});

	it("sends, and a replayed transaction_id answers the first send", async () => {
		const headers = { app_id: "1", "access-token": aliceToken };
		const body = { type: 1, targets: [String(bob)], content_type: 0, content: "hello over http", transaction_id: "77" };
		const first = await request("POST", "/message/send", { headers, body });
		expect(first.status).toBe(200);
		const again = await request("PUT", "/message/send", { headers, body });
		expect(again.status).toBe(200);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		expect(again.body.msg_ids).toEqual(first.body.msg_ids);
		const conflict = await request("POST", "/message/send", { headers, body: { ...body, content: "changed" } });
		expect(conflict.status).toBe(409);
	});

	it("pages through history with next_msg_id, every message once", async () => {
		const headers = { app_id: "1", "access-token": aliceToken };
		const sent: number[] = [];
		for (let i = 0; i < 12; i++) {
			const reply = await request("POST", "/message/send", {
				headers,
				body: { type: 1, targets: [bob], content_type: 0, content: `page ${i}` },
			});
			sent.push(reply.body.msg_ids[0]);
		}
		const seen: number[] = [];
		let start = 0;
		for (;;) {
			const page = await request("GET", "/message/conversation", {
				headers: { ...admin(), user_id: String(bob) },
				query: { opposite_id: alice, msg_id_start: start, limit: 5 },
			});
			expect(page.status).toBe(200);
			seen.push(...page.body.data.messages.map((m: any) => m.msg_id));
			if (page.body.data.is_last) break;
			start = page.body.data.next_msg_id;
		}
		expect(new Set(seen).size).toBe(seen.length);
		for (const id of sent) expect(seen).toContain(id);
	});

	it("keeps apps apart: the second app (made by app:create) sees nothing of app 1", async () => {
		const second = inject("secondApp");
		const headers = admin(second.app_id, second.admin_token);
		const registered = await request("POST", "/user/register/v2", {
			headers,
			body: { username: `alice-${run}`, password: "other-password" },
		});
		expect(registered.status).toBe(200);
		expect(registered.body.data.user_id).not.toBe(alice);
		const foreign = await request("GET", "/message/conversation", {
			headers: { ...headers, user_id: String(alice) },
			query: { opposite_id: bob },
		});
		expect(foreign.status).toBe(404);
		const wrongToken = await request("GET", "/message/conversation", {
			headers: { ...admin(second.app_id), user_id: String(alice) },
			query: { opposite_id: bob },
		});
		expect(wrongToken.status).toBe(401);
	});

	it("answers bad input with a 4xx envelope, never a 500", async () => {
		const reply = await request("POST", "/message/send", { headers: admin(), body: { type: 1, targets: "everyone" } });
		expect(reply.status).toBe(400);
		expect(reply.body).toMatchObject({ code: 400, data: null });
		const missing = await request("GET", "/no/such/path", { headers: admin() });
		expect(missing.status).toBe(404);
	});

	it("rotates an app's admin token with the operator CLI; the new token works at once", async () => {
		const appId = inject("secondApp").app_id;
		const rotated = await rotateToken({ stateDir: inject("stateDir") }, appId);
		expect(rotated.app_id).toBe(appId);
		expect(rotated.admin_token).toMatch(/^adm_[0-9a-f]{64}$/);
		const reply = await request("POST", "/user/register/v2", {
			headers: admin(appId, rotated.admin_token),
			body: { username: `after-rotation-${run}`, password: "secret-pw" },
		});
		expect(reply.status).toBe(200);
	});
});
