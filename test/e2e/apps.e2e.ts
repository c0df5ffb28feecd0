// The operator CLI speaks app keys (docs/API.md "Apps, credentials and who is acting"): --app chooses one, none gives a decimal number.
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { createApp, runOperatorCli } from "../../scripts/devServer.mjs";
import { admin, request } from "./client";

const server = () => ({ stateDir: inject("stateDir") });

describe("npm run app:create and app keys over HTTP", () => {
	// Its own app: the story suite rotates the second app's token.
	let app: { app_id: string; admin_token: string };
	beforeAll(async () => {
		app = await createApp(server(), "keyed", ["--app", "Lanying_app-42"]);
	});

	it("an app created with --app is served under that key (the second app of the suite is welovemaxim)", async () => {
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

	it("without --app the app's key is a decimal number no other app has", async () => {
		const app = await createApp(server(), "numbered");
		expect(app.app_id).toMatch(/^[1-9][0-9]*$/);
		expect(app.app_id).not.toBe("1");
		const reply = await request("POST", "/user/register/v2", {
			headers: admin(app.app_id, app.admin_token),
			body: { username: "n", password: "secret-pw" },
		});
		expect(reply.status).toBe(200);
	});

	it("a taken or malformed --app is refused and creates nothing", async () => {
		const taken = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "dup", "--app", "Lanying_app-42"]);
		expect(taken.code).toBe(1);
		expect(taken.err).toContain("app_id Lanying_app-42 is taken");
		for (const key of ["we/love", "x".repeat(65), "has space"]) {
			const bad = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "bad", "--app", key]);
			expect(bad.code, key).toBe(2);
		}
		// The key still belongs to the first app, whose token still works (404: no such user, past authentication).
		const reply = await request("GET", "/message/unread", { headers: { ...admin("Lanying_app-42", app.admin_token), user_id: "999999" } });
		expect(reply.status).toBe(404);
	});
});

/** Runs SQL on one of the dev server's local databases, as the operator scripts do. */
function localRows(binding: string, command: string): Record<string, unknown>[] {
	const args = ["node_modules/wrangler/bin/wrangler.js", "d1", "execute", binding, "--local", "--persist-to", inject("stateDir")];
	const run = spawnSync(process.execPath, [...args, "--json", "--command", command], {
		encoding: "utf8",
		env: { ...process.env, CI: "true" },
	});
	if (run.status !== 0) throw new Error(run.stderr);
	return JSON.parse(run.stdout)[0].results;
}

describe("npm run app:create places apps on several D1 databases", () => {
	it("--database DB_2 puts the app's row and data in DB_2 (migrated by npm run dev), and it is served end to end", async () => {
		const app = await createApp(server(), "second database", ["--database", "DB_2"]);
		expect(app.database).toBe("DB_2");
		const headers = admin(app.app_id, app.admin_token);
		const users = await request("POST", "/user/register/batch", {
			headers,
			body: {
				list: [
					{ username: "placed-a", password: "secret-pw" },
					{ username: "placed-b", password: "secret-pw" },
				],
			},
		});
		expect(users.status).toBe(200);
		const [a, b] = users.body.data.map((u: { user_id: number }) => u.user_id);
		const sent = await request("POST", "/message/send", {
			headers,
			body: { type: 1, from_user_id: a, targets: [b], content_type: 0, content: "on DB_2" },
		});
		expect(sent.status, JSON.stringify(sent.body)).toBe(200);
		expect(sent.headers.get("x-d1-bookmark")).toMatch(/^[0-9a-f]{8}-/);
		const read = await request("GET", `/message/conversation?opposite_id=${a}`, { headers: { ...headers, user_id: String(b) } });
		expect(read.body.data.messages.map((m: { content: string }) => m.content)).toEqual(["on DB_2"]);
		const id = Number(localRows("DB", `SELECT app_id FROM app_directory WHERE key = '${app.app_id}'`)[0]?.app_id);
		expect(localRows("DB_2", `SELECT count(*) AS n FROM messages WHERE app_id = ${id}`)[0]?.n).toBe(1);
		expect(localRows("DB", `SELECT count(*) AS n FROM messages WHERE app_id = ${id}`)[0]?.n).toBe(0);
		expect(localRows("DB", `SELECT count(*) AS n FROM apps WHERE id = ${id}`)[0]?.n).toBe(0);
	});

	it("without --database an app goes to the database holding the fewest apps (DB on a tie)", async () => {
		for (let i = 0; i < 2; i++) {
			const counts = Object.fromEntries(
				localRows("DB", "SELECT database_binding AS d, count(*) AS n FROM app_directory GROUP BY d").map((r) => [r.d, r.n]),
			);
			const [db, db2] = [Number(counts.DB ?? 0), Number(counts.DB_2 ?? 0)];
			const app = await createApp(server(), `placed ${i}`);
			expect(app.database, JSON.stringify(counts)).toBe(db2 < db ? "DB_2" : "DB");
		}
	}, 180_000); // each create and count runs wrangler (several seconds each on a loaded CI machine)

	it("a --database that is not one of APP_DATABASES is refused and creates nothing", async () => {
		const before = localRows("DB", "SELECT count(*) AS n FROM app_directory")[0]?.n;
		const bad = await runOperatorCli(server(), "scripts/app-create.mjs", ["--name", "nowhere", "--database", "DB_9"]);
		expect(bad.code).toBe(2);
		expect(bad.err).toContain("--database must be one of DB, DB_2");
		expect(localRows("DB", "SELECT count(*) AS n FROM app_directory")[0]?.n).toBe(before);
	});
});
