// npm run app:create -- --name NAME [--remote] [--open-registration] [--recall-window SECONDS] [--persist-to DIR]
// Creates an app and prints one JSON line {"app_id": N, "admin_token": "..."}.
// The token is shown only this once; the database keeps its SHA-256 hash.
import { createHash, randomBytes } from "node:crypto";
import { localStateArgs, option, sqlString, wrangler } from "./wrangler.mjs";

const argv = process.argv.slice(2);
const name = option(argv, "name");
if (typeof name !== "string" || name.trim() === "" || name.length > 100) {
	console.error("usage: npm run app:create -- --name NAME [--remote] [--open-registration] [--recall-window SECONDS]");
	process.exit(2);
}
const recallWindow = Number(option(argv, "recall-window") ?? 120);
if (!Number.isSafeInteger(recallWindow) || recallWindow < 0) {
	console.error("--recall-window must be a whole number of seconds");
	process.exit(2);
}
const remote = option(argv, "remote") === true;
const target = remote ? ["--remote"] : ["--local", ...localStateArgs(argv)];
if (!remote) wrangler(["d1", "migrations", "apply", "DB", ...target], { quiet: true });

const adminToken = `adm_${randomBytes(32).toString("hex")}`;
const hash = createHash("sha256").update(adminToken).digest("hex");
const openRegistration = option(argv, "open-registration") === true ? 1 : 0;
const insert = `INSERT INTO apps (name, admin_token_hash, open_registration, recall_window_s, created_at)
	VALUES (${sqlString(name)}, ${sqlString(hash)}, ${openRegistration}, ${recallWindow}, ${Date.now()}) RETURNING id`;
const output = wrangler(["d1", "execute", "DB", ...target, "--json", "--command", insert], { quiet: true });
const appId = JSON.parse(output)[0]?.results?.[0]?.id;
if (!Number.isSafeInteger(appId)) {
	console.error(`could not read the new app id from wrangler's answer: ${output}`);
	process.exit(1);
}
console.log(JSON.stringify({ app_id: appId, admin_token: adminToken }));
