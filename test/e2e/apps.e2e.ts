// The operator CLI speaks app keys (SPEC §3): --app-id chooses one, none gives a decimal number.
import { describe, expect, inject, it } from "vitest";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { createApp, runOperatorCli } from "../../scripts/devServer.mjs";
import { admin, request } from "./client";

const server = () => ({ stateDir: inject("stateDir") });

describe("npm run app:create and app keys over HTTP", () => {
	it("an app created with --app-id welovemaxim is served under that key", async () => {
		const app = inject("secondApp");
		expect(app.app_id).toBe("welovemaxim");
		const reply = await request("POST", "/user/register/v2", {
			headers: admin("welovemaxim", app.admin_token),
			body: { username: `key-${Date.now()}`, password: "secret-pw" },
		});
		expect(reply.status).toBe(200);
		const token = await request("POST", "/token/id", {
			headers: { app_id: "welovemaxim" },
			body: { user_id: reply.body.data.user_id, password: "secret-pw" },
		});
		expect(token.status).toBe(200);
		// The dev app's token is no key to this app.
		expect((await request("GET", "/message/unread", { headers: admin("welovemaxim") })).status).toBe(401);
	});

	it("without --app-id the app's key is a decimal number no other app has", async () => {
		const app = await createApp(server(), "numbered");
		expect(app.app_id).toMatch(/^[1-9][0-9]*$/);
		expect(app.app_id).not.toBe("1");
		const reply = await request("POST", "/user/register/v2", {
			headers: admin(app.app_id, app.admin_token),
			body: { username: "n", password: "secret-pw" },
		});
		expect(reply.status).toBe(200);
	});

	it("a taken or malformed --app-id is refused and creates nothing", async () => {
		const taken = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "dup", "--app-id", "welovemaxim"]);
		expect(taken.code).toBe(1);
		expect(taken.err).toContain("app_id welovemaxim is taken");
		for (const key of ["we/love", "x".repeat(65), "has space"]) {
			const bad = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "bad", "--app-id", key]);
			expect(bad.code, key).toBe(2);
		}
		// welovemaxim still has its own admin token.
		const app = inject("secondApp");
		expect(
			(await request("GET", "/message/unread", { headers: { ...admin("welovemaxim", app.admin_token), user_id: "999999" } })).status,
		).toBe(404);
	});
});
