// npm run dev [-- --port N] [--persist-to DIR]   (--help: every flag)
// Local development in one command: a signing key in .dev.vars, the /docs
// assets copied, the D1 migrations applied to local state, the dev app seeded
// (app_id "1", admin token DEV_ADMIN_TOKEN or "dev-admin-token", users ann and ben
// with password "password1" for the chat page at /), then `wrangler dev`.
// Everything here touches local state only; nothing is sent to Cloudflare.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";
import { LOCAL_STATE_FLAGS, parseCommand, step, usageError } from "./cli.mjs";
import { buildPublic } from "./public-assets.mjs";
import { migrateAll, sqlString, target, wrangler, wranglerForeground } from "./wrangler.mjs";

const command = {
	usage: "usage: npm run dev [-- --port N] [--persist-to DIR]",
	summary:
		"Serves the API, the chat page and /docs locally with local D1, KV and Durable Objects, with a ready dev app (app_id 1) and users ann and ben (password password1). Needs no Cloudflare account.",
	flags: {
		port: { type: "string", value: "N", help: "Port to serve on (127.0.0.1).", default: "8787" },
		"persist-to": LOCAL_STATE_FLAGS["persist-to"],
	},
	notes: "DEV_ADMIN_TOKEN=... sets the dev app's admin token (default dev-admin-token).",
};
const flags = parseCommand(command);
if (!/^[0-9]{1,5}$/.test(flags.port) || Number(flags.port) > 65_535) usageError(command, "--port must be a port number");
const local = target(flags);

if (!existsSync(".dev.vars")) {
	writeFileSync(".dev.vars", `TOKEN_SIGNING_KEY=${randomBytes(32).toString("hex")}\n`);
	console.log("Wrote .dev.vars with a fresh TOKEN_SIGNING_KEY.");
}

await step("Building the chat page and the client", () => buildPublic());
await step("Applying the migrations to local state", () => migrateAll(local)); // every app database (wrangler.toml APP_DATABASES)

const adminToken = process.env.DEV_ADMIN_TOKEN || "dev-admin-token";
const hash = createHash("sha256").update(adminToken).digest("hex");
await step("Seeding the dev app", () =>
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
	),
);

const port = flags.port;
wranglerForeground(
	[
		"dev",
		"--ip",
		"127.0.0.1",
		"--port",
		port,
		// Local callback receivers (e.g. `npm run callbacks:listen`) are plain http on loopback.
		"--var",
		"CALLBACK_ALLOW_PRIVATE:true",
		...local.slice(1), // --persist-to DIR, if given
	],
	{ keep: quietWrangler },
);
runCronLocally(`http://127.0.0.1:${port}`);

/**
 * What of wrangler's output is worth a developer's screen: requests, logs and
 * errors. Left out: its banner and bindings table, its own "Ready on" (the
 * ready line below says more), the offline `Request.cf` fallback, and its
 * warning that Cron Triggers do not fire by themselves in development — this
 * script fires the schedule every minute itself (runCronLocally).
 */
function quietWrangler() {
	let skipping = null; // the block being left out, until it ends
	return (line) => {
		const plain = stripVTControlCharacters(line);
		if (skipping === "bindings") {
			if (plain.trim() === "") skipping = null;
			return false;
		}
		if (skipping === "cron") {
			if (plain.includes("For more details")) skipping = null;
			return false;
		}
		if (skipping === "stack") {
			if (/^\s+at |^Error: getaddrinfo/.test(plain)) return false;
			skipping = null;
		}
		if (plain.includes("Scheduled Workers are not automatically triggered")) skipping = "cron";
		else if (plain.startsWith("Your Worker has access to the following bindings")) skipping = "bindings";
		else if (plain.includes("Unable to fetch the `Request.cf` object")) skipping = "stack";
		if (skipping) return false;
		if (/wrangler \d+\.\d+|^[─-]+$|Using secrets defined in|Starting local server|Ready on http|^\s*$/.test(plain)) return false;
		return true;
	};
}

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
	console.log(
		`Ready: API ${base} · chat page ${base}/ (log in as ann or ben, password "password1") · docs ${base}/docs · app_id 1, admin token "${adminToken}" · the schedule runs every minute`,
	);
}
