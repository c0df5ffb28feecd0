// npm run dev [-- --port N --persist-to DIR]
// Local development in one command: a signing key in .dev.vars, the /docs
// assets copied, the D1 migrations applied to local state, the dev app seeded
// (app_id "1", admin token DEV_ADMIN_TOKEN or "dev-admin-token", users ann and ben
// with password "password1" for the chat page at /), then `wrangler dev`.
// Everything here touches local state only; nothing is sent to Cloudflare.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { buildPublic } from "./public-assets.mjs";
import { localStateArgs, migrateAll, option, sqlString, wrangler, wranglerForeground } from "./wrangler.mjs";

const argv = process.argv.slice(2);
const local = ["--local", ...localStateArgs(argv)];

if (!existsSync(".dev.vars")) {
	writeFileSync(".dev.vars", `TOKEN_SIGNING_KEY=${randomBytes(32).toString("hex")}\n`);
	console.log("Wrote .dev.vars with a fresh TOKEN_SIGNING_KEY.");
}

await buildPublic();
migrateAll(local); // every app database (wrangler.toml APP_DATABASES)

const adminToken = process.env.DEV_ADMIN_TOKEN || "dev-admin-token";
const hash = createHash("sha256").update(adminToken).digest("hex");
wrangler(
	[
		"d1",
		"execute",
		"DB",
		...local,
		"--command",
		`INSERT INTO app_directory (app_id, key, database_binding) VALUES (1, '1', 'DB') ON CONFLICT DO NOTHING;
		INSERT INTO apps (id, key, name, admin_token_hash, open_registration, recall_window_s, created_at)
		VALUES (1, '1', 'dev', ${sqlString(hash)}, 0, 120, ${Date.now()})
		ON CONFLICT (id) DO UPDATE SET admin_token_hash = excluded.admin_token_hash`,
	],
	{ quiet: true },
);
console.log(`Dev app ready: app_id 1, admin token "${adminToken}".`);

const port = typeof option(argv, "port") === "string" ? option(argv, "port") : "8787";
wranglerForeground([
	"dev",
	"--ip",
	"127.0.0.1",
	"--port",
	port,
	// Local callback receivers (e.g. `npm run callbacks:listen`) are plain http on loopback.
	"--var",
	"CALLBACK_ALLOW_PRIVATE:true",
	...localStateArgs(argv),
]);
runCronLocally(`http://127.0.0.1:${port}`);

/**
 * `wrangler dev` does not fire Cron Triggers by itself: run the schedule
 * (callback sweep and purge, src/apps/scheduled.ts) once the server answers,
 * then every minute, as the deployed trigger does.
 */
async function runCronLocally(base) {
	const answers = () =>
		fetch(`${base}/healthz`).then(
			(r) => r.ok,
			() => false,
		);
	while (!(await answers())) await new Promise((resolve) => setTimeout(resolve, 500));
	await seedDemoUsers(base);
	for (;;) {
		await fetch(`${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`).catch(() => {});
		await new Promise((resolve) => setTimeout(resolve, 60_000));
	}
}

/** Two users to chat with on the page at / (dev state only): ann and ben, password "password1". */
async function seedDemoUsers(base) {
	for (const username of ["ann", "ben"]) {
		await fetch(`${base}/user/register/v2`, {
			method: "POST",
			headers: { app_id: "1", "access-token": adminToken, "content-type": "application/json" },
			body: JSON.stringify({ username, password: "password1" }),
		}).catch(() => {}); // 409 once they exist
	}
	console.log(`Chat page: open ${base}/ and log in as ann or ben (password "password1"), one per tab.`);
}
