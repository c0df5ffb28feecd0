// npm run app:create -- --name NAME [--app-id KEY] [--database BINDING] [--remote] [--open-registration] [--recall-window SECONDS] [--persist-to DIR]
// Creates an app and prints one JSON line {"app_id": "KEY", "admin_token": "...", "database": "BINDING"}.
// KEY is how clients name the app (header app_id): the one given with --app-id
// (an app moving from the source service keeps its AppID), else a decimal
// number. The token is shown only this once; the database keeps its SHA-256 hash.
// The app lives on the database --database names (a binding of wrangler.toml's
// APP_DATABASES), else on the one holding the fewest apps; it never moves.
// Two steps: the directory (in DB) gives the app its number, then its row is
// written to its database. If the second fails, running the same command
// again with the same --app-id finishes it.
import { createHash, randomBytes } from "node:crypto";
import { APP_KEY, appDatabases, d1Rows, localStateArgs, migrateAll, option, placementOf, sqlString } from "./wrangler.mjs";

const USAGE =
	"usage: npm run app:create -- --name NAME [--app-id KEY] [--database BINDING] [--remote] [--open-registration] [--recall-window SECONDS]";
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
const databases = appDatabases();
const wanted = option(argv, "database");
if (wanted !== undefined && !databases.includes(wanted)) {
	console.error(`--database must be one of ${databases.join(", ")} (wrangler.toml APP_DATABASES)`);
	process.exit(2);
}
const remote = option(argv, "remote") === true;
const target = remote ? ["--remote"] : ["--local", ...localStateArgs(argv)];
if (!remote) migrateAll(target);

// Placement: the database named, else the one with the fewest apps (the first on a tie).
const counts = new Map(
	d1Rows("DB", target, "SELECT database_binding, count(*) AS apps FROM app_directory GROUP BY database_binding").map((r) => [
		r.database_binding,
		r.apps,
	]),
);
const leastUsed = databases.reduce((best, d) => ((counts.get(d) ?? 0) < (counts.get(best) ?? 0) ? d : best));

// Without --app-id: one more than any app number and any all-digit key, so it is free.
const defaultKey = `CAST(1 + max(
	(SELECT coalesce(max(app_id), 0) FROM app_directory),
	(SELECT coalesce(max(CAST(key AS INTEGER)), 0) FROM app_directory WHERE key NOT GLOB '*[^0-9]*' AND length(key) <= 15)) AS TEXT)`;
const placed =
	d1Rows(
		"DB",
		target,
		`INSERT INTO app_directory (key, database_binding)
	VALUES (${key === undefined ? defaultKey : sqlString(key)}, ${sqlString(wanted ?? leastUsed)})
	ON CONFLICT (key) DO NOTHING RETURNING app_id, key, database_binding`,
	)[0] ?? (key === undefined ? undefined : unfinished(key));
if (!placed) {
	console.error(key === undefined ? "could not read the new app's number from wrangler's answer" : `app_id ${key} is taken`);
	process.exit(1);
}

const adminToken = `adm_${randomBytes(32).toString("hex")}`;
const hash = createHash("sha256").update(adminToken).digest("hex");
const openRegistration = option(argv, "open-registration") === true ? 1 : 0;
const created = d1Rows(
	placed.database_binding,
	target,
	`INSERT INTO apps (id, key, name, admin_token_hash, open_registration, recall_window_s, created_at)
	VALUES (${placed.app_id}, ${sqlString(placed.key)}, ${sqlString(name)}, ${sqlString(hash)}, ${openRegistration}, ${recallWindow}, ${Date.now()})
	ON CONFLICT (id) DO NOTHING RETURNING key`,
)[0]?.key;
if (created !== placed.key) {
	console.error(`app_id ${placed.key} is taken`);
	process.exit(1);
}
console.log(JSON.stringify({ app_id: created, admin_token: adminToken, database: placed.database_binding }));

/** A key in the directory whose app row is missing (an earlier create stopped between its steps): finish that one. */
function unfinished(taken) {
	const placement = placementOf(taken, target);
	if (!placement) return undefined;
	const exists = d1Rows(placement.database_binding, target, `SELECT 1 AS found FROM apps WHERE id = ${placement.app_id}`).length > 0;
	return exists ? undefined : { ...placement, key: taken };
}
