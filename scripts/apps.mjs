// Creating an app in its database (npm run app:create, and npm run deploy's
// first app). KEY is how clients name the app (header app_id): the one given
// (an app moving from the source service keeps its AppID), else a decimal
// number. The admin token is answered only this once; the database keeps its
// SHA-256 hash. The app lives on the database named (a binding of
// wrangler.toml's APP_DATABASES), else on the one holding the fewest apps; it
// never moves. Two steps: the directory (in DB) gives the app its number, then
// its row is written to its database. If the second fails, creating it again
// with the same key finishes it.
import { createHash, randomBytes } from "node:crypto";
import { appDatabases, d1Rows, placementOf, sqlString } from "./wrangler.mjs";

/** A refusal the operator can act on (exit 1 with its message). */
export class AppError extends Error {}

/** Creates the app; answers {app_id, admin_token, database}. `where`: wrangler's --local/--remote arguments. */
export async function createApp({ name, key, database, where, openRegistration = false, recallWindowS = 120 }) {
	const databases = appDatabases();
	// Placement: the database named, else the one with the fewest apps (the first on a tie).
	const counts = new Map(
		(await d1Rows("DB", where, "SELECT database_binding, count(*) AS apps FROM app_directory GROUP BY database_binding")).map((r) => [
			r.database_binding,
			r.apps,
		]),
	);
	const leastUsed = databases.reduce((best, d) => ((counts.get(d) ?? 0) < (counts.get(best) ?? 0) ? d : best));
	// Without a key: one more than any app number and any all-digit key, so it is free.
	const defaultKey = `CAST(1 + max(
	(SELECT coalesce(max(app_id), 0) FROM app_directory),
	(SELECT coalesce(max(CAST(key AS INTEGER)), 0) FROM app_directory WHERE key NOT GLOB '*[^0-9]*' AND length(key) <= 15)) AS TEXT)`;
	const placed =
		(
			await d1Rows(
				"DB",
				where,
				`INSERT INTO app_directory (key, database_binding)
	VALUES (${key === undefined ? defaultKey : sqlString(key)}, ${sqlString(database ?? leastUsed)})
	ON CONFLICT (key) DO NOTHING RETURNING app_id, key, database_binding`,
			)
		)[0] ?? (key === undefined ? undefined : await unfinished(key, where));
	if (!placed)
		throw new AppError(key === undefined ? "could not read the new app's number from wrangler's answer" : `app_id ${key} is taken`);

	const adminToken = `adm_${randomBytes(32).toString("hex")}`;
	const hash = createHash("sha256").update(adminToken).digest("hex");
	const created = (
		await d1Rows(
			placed.database_binding,
			where,
			`INSERT INTO apps (id, key, name, admin_token_hash, open_registration, recall_window_s, created_at)
	VALUES (${placed.app_id}, ${sqlString(placed.key)}, ${sqlString(name)}, ${sqlString(hash)}, ${openRegistration ? 1 : 0}, ${recallWindowS}, ${Date.now()})
	ON CONFLICT (id) DO NOTHING RETURNING key`,
		)
	)[0]?.key;
	if (created !== placed.key) throw new AppError(`app_id ${placed.key} is taken`);
	return { app_id: created, admin_token: adminToken, database: placed.database_binding };
}

/** How many apps there are (the directory's rows). */
export async function appCount(where) {
	return Number((await d1Rows("DB", where, "SELECT count(*) AS apps FROM app_directory"))[0]?.apps ?? 0);
}

/** A key in the directory whose app row is missing (an earlier create stopped between its steps): finish that one. */
async function unfinished(taken, where) {
	const placement = await placementOf(taken, where);
	if (!placement) return undefined;
	const exists = (await d1Rows(placement.database_binding, where, `SELECT 1 AS found FROM apps WHERE id = ${placement.app_id}`)).length > 0;
	return exists ? undefined : { ...placement, key: taken };
}
