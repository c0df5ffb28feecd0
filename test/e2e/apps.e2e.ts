// The operator CLI speaks app keys (SPEC §3): --app-id chooses one, none gives a decimal number.
import { beforeAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { createApp, runOperatorCli } from "../../scripts/devServer.mjs";
import { admin, request } from "./client";

const server = () => ({ stateDir: inject("stateDir") });

describe("npm run app:create and app keys over HTTP", () => {
	// Its own app: the story suite rotates the second app's token.
	let app: { app_id: string; admin_token: string };
	beforeAll(async () => {
		app = await createApp(server(), "keyed", ["--app-id", "Lanying_app-42"]);
	});

	it("an app created with --app-id is served under that key (the second app of the suite is welovemaxim)", async () => {
		expect(inject("secondApp").app_id).toBe("welovemaxim");
		expect(app.app_id).toBe("Lanying_app-42");
		const reply = await request("POST", "/user/register/v2", {
			headers: admin("Lanying_app-42", app.admin_token),
			body: { username: `key-${Date.now()}`, password: "secret-pw" },
		});
		expect(reply.status).toBe(200);
		const token = await request("POST", "/token/id", {
			headers: { app_id: "Lanying_app-42" },
			body: { user_id: reply.body.data.user_id, password: "secret-pw" },
		});
		expect(token.status).toBe(200);
		// The dev app's token is no key to this app.
		expect((await request("GET", "/message/unread", { headers: admin("Lanying_app-42") })).status).toBe(401);
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
		const taken = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "dup", "--app-id", "Lanying_app-42"]);
		expect(taken.code).toBe(1);
		expect(taken.err).toContain("app_id Lanying_app-42 is taken");
		for (const key of ["we/love", "x".repeat(65), "has space"]) {
			const bad = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "bad", "--app-id", key]);
			expect(bad.code, key).toBe(2);
		}
		// The key still belongs to the first app, whose token still works (404: no such user, past authentication).
		const reply = await request("GET", "/message/unread", { headers: { ...admin("Lanying_app-42", app.admin_token), user_id: "999999" } });
		expect(reply.status).toBe(404);
	});
});
