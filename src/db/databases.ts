// Apps spread over several D1 databases: one D1 database is one SQLite file of
// at most 10 GB with one writer (docs/SCALE.md), so each app is placed on one
// of several. [vars] APP_DATABASES lists their bindings (DB, DB_2, ...); each
// has the same schema (every migration applies to each), and an app's data —
// users, groups, messages, conversation state, callbacks, dedupe rows,
// presence — lives in the one its directory row names. The directory is the
// apps table of binding DB: a row per app, read through the app memo.
import { type Placement, placementOf } from "./apps";
import { type Database, database } from "./client";

/** The binding whose apps table is the directory. */
export const DIRECTORY = "DB";

/** The databases apps are placed on, by binding name, in the order [vars] APP_DATABASES lists them. */
export function appDatabaseNames(env: Env): string[] {
	const names = String(env.APP_DATABASES ?? DIRECTORY)
		.split(",")
		.map((name) => name.trim())
		.filter((name) => name !== "");
	return names.length > 0 ? names : [DIRECTORY];
}

/** The D1 binding `name`. One not bound is a deployment error (500: a retry cannot fix it), not a 503. */
export function d1Binding(env: Env, name: string): D1Database {
	const binding = (env as unknown as Record<string, unknown>)[name];
	if (typeof binding !== "object" || binding === null || !("withSession" in binding)) {
		throw new Error(`No D1 database is bound as ${name}: add it to wrangler.toml`);
	}
	return binding as D1Database;
}

/** The directory (apps and their settings). */
export const directory = (env: Env): Database => database(d1Binding(env, DIRECTORY));

/** Where each app seen by this isolate lives, by number and by key: an app never moves, so this never goes stale. */
const byId = new Map<number, string>();
const byKey = new Map<string, Placement>();
const MAX_PLACEMENTS = 100_000;

function remember(key: string | null, placement: Placement): void {
	if (byId.size >= MAX_PLACEMENTS) {
		byId.clear();
		byKey.clear();
	}
	byId.set(placement.appId, placement.databaseBinding);
	if (key !== null) byKey.set(key, placement);
}

/** Where the app with this key lives (undefined: no such app): from memory, else one directory read. */
export async function placementOfKey(env: Env, key: string): Promise<Placement | undefined> {
	const known = byKey.get(key);
	if (known) return known;
	const placement = await placementOf(directory(env), { key });
	if (placement) remember(key, placement);
	return placement;
}

/**
 * The D1 database of an app known by its number only (its Durable Objects,
 * the schedule): from memory, else one directory read, once per isolate.
 */
export async function appD1(env: Env, appId: number): Promise<D1Database> {
	let binding = byId.get(appId);
	if (binding === undefined) {
		const placement = await placementOf(directory(env), { appId });
		if (!placement) throw new Error(`No app ${appId} in the directory`);
		remember(null, placement);
		binding = placement.databaseBinding;
	}
	return d1Binding(env, binding);
}

export const appDatabase = async (env: Env, appId: number): Promise<Database> => database(await appD1(env, appId));
