// npm run deploy [-- --dry-run] [--app-name NAME] [--url URL]   (--help: every flag)
// The first deploy and every later one, in one command (docs/DEPLOY.md):
//   1. build the static files (chat page, client, /docs assets) into public/;
//   2. check the Cloudflare login;
//   3. create each D1 database wrangler.toml names that the account lacks
//      (the bindings carry names, not account-specific ids);
//   4. apply the migrations to every app database, before the new code is live;
//   5. put the TOKEN_SIGNING_KEY secret, generated here and passed on stdin
//      (never printed, never on a command line), when the Worker has none;
//   6. `wrangler deploy` (it provisions and links the KV namespace itself);
//   7. create the first app when there is none, and print its admin token once;
//   8. check /healthz at the deployed URL.
// A second run changes only what changed: nothing is created twice, the key
// is never replaced, applied migrations are skipped, no second app is made.
// --dry-run prints every step it would take and builds the bundle
// (`wrangler deploy --dry-run`); it needs no account.
import { randomBytes } from "node:crypto";
import { appCount, createApp } from "./apps.mjs";
import { parseCommand, step, usageError } from "./cli.mjs";
import { buildPublic } from "./public-assets.mjs";
import { appDatabases, d1Databases, wrangler } from "./wrangler.mjs";

const command = {
	usage: "usage: npm run deploy [-- --dry-run] [--app-name NAME] [--url URL]",
	summary:
		"Deploys to your Cloudflare account: databases created and migrated, the signing key put once, the Worker deployed, a first app created, the health checked. Safe to run again.",
	flags: {
		"dry-run": { type: "boolean", help: "Print every step without touching the account, and build the bundle (no login needed)." },
		"app-name": { type: "string", value: "NAME", help: "The first app's name, when one is created.", default: "main" },
		url: { type: "string", value: "URL", help: "Where the Worker answers, for the health check (default: the URL wrangler prints)." },
	},
	notes: "Log in first with `npx wrangler login` (or set CLOUDFLARE_API_TOKEN). Other apps: npm run app:create -- --name NAME --remote",
};
const flags = parseCommand(command);
if (flags.url !== undefined && !/^https?:\/\/[^\s/]+/.test(flags.url)) usageError(command, "--url must be an http(s) URL");
const dryRun = flags["dry-run"] === true;
const REMOTE = ["--remote"];
const say = (text) => console.log(text);

say(dryRun ? "Dry run: nothing on your account is read or changed.\n" : "");
say("1. Building the chat page, the client and the /docs assets into public/");
await step("Building", () => buildPublic());

if (dryRun) {
	say("2. Check the login: wrangler whoami");
	for (const d of d1Databases())
		say(`3. Create D1 database ${d.name} (binding ${d.binding}) if the account has none: wrangler d1 create ${d.name}`);
	for (const b of appDatabases()) say(`4. Apply the migrations to ${b}: wrangler d1 migrations apply ${b} --remote`);
	say(
		"5. If the Worker has no TOKEN_SIGNING_KEY: generate one and put it: wrangler secret put TOKEN_SIGNING_KEY (value on stdin, never printed)",
	);
	say("6. Deploy (the KV namespace DEDUPE is provisioned and linked on the first deploy): wrangler deploy");
	say(`7. If there is no app yet: create "${flags["app-name"]}" in the deployed databases and print its admin token once`);
	say("8. Check GET /healthz at the deployed URL");
	say("\nBuilding the bundle (wrangler deploy --dry-run):");
	const built = await wrangler(["deploy", "--dry-run", "--outdir", ".wrangler/dry-run"], { quiet: true });
	say(built.split("\n").find((line) => line.includes("Total Upload")) ?? "");
	say("Dry run done: the bundle builds (.wrangler/dry-run). Nothing was deployed.");
	process.exit(0);
}

say("2. Checking the Cloudflare login");
const who = await wrangler(["whoami"], { quiet: true, allowFailure: true });
if (typeof who !== "string" || /not authenticated/i.test(who)) {
	console.error("Not logged in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then `npm run deploy` again.");
	process.exit(1);
}

say("3. Databases");
const existing = new Set(
	JSON.parse(await step("Listing D1 databases", () => wrangler(["d1", "list", "--json"], { quiet: true }))).map((d) => d.name),
);
for (const d of d1Databases()) {
	if (existing.has(d.name)) {
		say(`   ${d.name} (${d.binding}): exists`);
		continue;
	}
	await step(`   Creating ${d.name}`, () => wrangler(["d1", "create", d.name], { quiet: true }));
	say(`   ${d.name} (${d.binding}): created`);
}

say("4. Migrations (before the new code is live)");
for (const binding of appDatabases()) {
	const out = await step(`   Migrating ${binding}`, () => wrangler(["d1", "migrations", "apply", binding, ...REMOTE], { quiet: true }));
	say(`   ${binding}: ${/No migrations to apply/i.test(out) ? "up to date" : "migrated"}`);
}

say("5. Token signing key");
// A new key would end every token issued: it is put only when the Worker surely has none (it does not exist yet, or lists none).
const secrets = await wrangler(["secret", "list", "--format", "json"], { quiet: true, allowFailure: true });
if (typeof secrets !== "string" && !/does not exist|10007/i.test(secrets.output)) {
	process.stderr.write(secrets.output);
	console.error("Could not list the Worker's secrets (above): nothing was put; run `npm run deploy` again.");
	process.exit(1);
}
const hasKey = typeof secrets === "string" && JSON.parse(secrets).some((s) => s.name === "TOKEN_SIGNING_KEY");
if (hasKey) say("   TOKEN_SIGNING_KEY: set (kept)");
else {
	await step("   Putting TOKEN_SIGNING_KEY", () =>
		wrangler(["secret", "put", "TOKEN_SIGNING_KEY"], { quiet: true, input: randomBytes(32).toString("hex") }),
	);
	say("   TOKEN_SIGNING_KEY: generated and put (not shown anywhere)");
}

say("6. Deploying the Worker");
const deployed = await step("   wrangler deploy", () => wrangler(["deploy"], { quiet: true }));
const url = flags.url ?? /^\s+(https?:\/\/\S+)\s*$/m.exec(deployed)?.[1];
say(`   deployed${url ? ` at ${url}` : ""}`);

say("7. Apps");
if ((await step("   Counting apps", () => appCount(REMOTE))) > 0) say("   there are apps already: none created");
else {
	const app = await step("   Creating the first app", () => createApp({ name: flags["app-name"], where: REMOTE }));
	say(`   created app "${flags["app-name"]}": app_id ${app.app_id}, on ${app.database}`);
	say(`   admin token (shown only this once; keep it secret): ${app.admin_token}`);
}

say("8. Health");
if (!url) {
	say(
		"   wrangler printed no URL (a route or custom domain?): check it with --url URL, e.g. npm run deploy -- --url https://im.example.com",
	);
	process.exit(0);
}
const healthy = await step("   Waiting for /healthz", () => waitHealthy(url, 120_000));
if (!healthy) {
	console.error(
		`   ${url}/healthz did not answer 200 within 2 minutes (a new workers.dev subdomain can take a few minutes): try it again shortly.`,
	);
	process.exit(1);
}
say(`   ${url}/healthz: 200\n\nDone: ${url} (chat page at /, API docs at /docs).`);

async function waitHealthy(base, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const ok = await fetch(new URL("/healthz", base)).then(
			(r) => r.status === 200,
			() => false,
		);
		if (ok) return true;
		await new Promise((resolve) => setTimeout(resolve, 2_000));
	}
	return false;
}
