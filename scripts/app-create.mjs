// npm run app:create -- --name NAME [--app-id KEY] [--remote] [--open-registration] [--recall-window SECONDS] [--persist-to DIR]
// Creates an app and prints one JSON line {"app_id": "KEY", "admin_token": "..."}.
// KEY is how clients name the app (header app_id): the one given with --app-id
// (an app moving from the source service keeps its AppID), else a decimal
// number. The token is shown only this once; the database keeps its SHA-256 hash.
import { createHash, randomBytes } from "node:crypto";
import { APP_KEY, localStateArgs, option, sqlString, wrangler } from "./wrangler.mjs";

const USAGE = "usage: npm run app:create -- --name NAME [--app-id KEY] [--remote] [--open-registration] [--recall-window SECONDS]";
const argv = process.argv.slice(2);
const name = option(argv, "name");
if (typeof name !== "string" || name.trim() === "" || name.length > 100) {
	console.error(USAGE);
	process.exit(2);
}
const key = option(argv, "app-id");
if (key !== undefined && (typeof key !== "string" || !APP_KEY.test(key))) {
	console.error("--app-id must be 1-64 characters from A-Z, a-z, 0-9, _ and -");
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
// Without --app-id: one more than any app number and any all-digit key, so it is free.
const defaultKey = `CAST(1 + max(
	(SELECT coalesce(max(id), 0) FROM apps),
	(SELECT coalesce(max(CAST(key AS INTEGER)), 0) FROM apps WHERE key NOT GLOB '*[^0-9]*' AND length(key) <= 15)) AS TEXT)`;
const insert = `INSERT INTO apps (key, name, admin_token_hash, open_registration, recall_window_s, created_at)
	VALUES (${key === undefined ? defaultKey : sqlString(key)}, ${sqlString(name)}, ${sqlString(hash)}, ${openRegistration}, ${recallWindow}, ${Date.now()})
	ON CONFLICT (key) DO NOTHING RETURNING key`;
const output = wrangler(["d1", "execute", "DB", ...target, "--json", "--command", insert], { quiet: true });
const created = JSON.parse(output)[0]?.results?.[0]?.key;
if (typeof created !== "string") {
	console.error(key === undefined ? `could not read the new app's key from wrangler's answer: ${output}` : `app_id ${key} is taken`);
	process.exit(1);
}
console.log(JSON.stringify({ app_id: created, admin_token: adminToken }));
