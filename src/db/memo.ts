// Isolate-local memory of facts that rarely or never change, so that a request
// path costs one D1 round trip (docs/API.md) once an isolate is warm.
// - Apps: kept APP_TTL_MS. A changed app setting, and the retirement of an
//   old admin token, take effect in every isolate within that time; a new
//   admin token works at once (a token that does not match is checked again
//   against D1).
// - Accounts: whether an id names a user or a group of the app. Ids are never
//   reused and users are never deleted, so a known kind never goes stale;
//   unknown ids are always asked of D1. (Whether a group still takes messages
//   is not remembered: its conversation object checks that.)
import { clock } from "../clock";
import { type AppRecord, findApp } from "./apps";
import { type Database, database } from "./client";
import { d1Binding, placementOfKey } from "./databases";
import { type AccountKind, accountKindsOf } from "./users";

export const APP_TTL_MS = 60_000;
const MAX_ACCOUNTS = 100_000;

const apps = new Map<string, { record: AppRecord; expires: number }>();
const kinds = new Map<string, AccountKind>();

/**
 * The app with this key, from memory if seen in the last APP_TTL_MS (unless
 * `fresh`), else from the database the directory places it on.
 */
export async function appByKey(env: Env, key: string, { fresh = false } = {}): Promise<AppRecord | undefined> {
	const now = clock.now();
	const hit = apps.get(key);
	if (hit && hit.expires > now && !fresh) return hit.record;
	const placement = await placementOfKey(env, key);
	const row = placement && (await findApp(database(d1Binding(env, placement.databaseBinding)), key));
	const record = row && { ...row, databaseBinding: placement.databaseBinding };
	if (record) apps.set(key, { record, expires: now + APP_TTL_MS });
	else apps.delete(key);
	return record;
}

const refused = new Map<string, number>();
const MAX_REFUSED = 10_000;

/**
 * Admin tokens refused in the last APP_TTL_MS, by the app and the token's
 * hash: a wrong token is checked against D1 once a minute, not on every
 * request. A rotated-in token cannot be among them (it did not exist).
 */
export function refusedRecently(appKey: string, tokenHash: string): boolean {
	const until = refused.get(`${appKey}/${tokenHash}`);
	return until !== undefined && until > clock.now();
}

export function rememberRefused(appKey: string, tokenHash: string): void {
	if (refused.size >= MAX_REFUSED) refused.clear();
	refused.set(`${appKey}/${tokenHash}`, clock.now() + APP_TTL_MS);
}

/** Forgets the app (its settings changed): this isolate reads it again on its next request. */
export function forgetApp(key: string): void {
	apps.delete(key);
}

/** What each of `ids` names in the app (absent: nothing); one D1 query for the ids not seen before. */
export async function accountKinds(db: Database, appId: number, ids: number[]): Promise<Map<number, AccountKind>> {
	const unknown = ids.filter((id) => !kinds.has(`${appId}/${id}`));
	if (unknown.length > 0) {
		const found = await accountKindsOf(db, appId, unknown);
		if (kinds.size + found.size > MAX_ACCOUNTS) kinds.clear();
		for (const [id, kind] of found) kinds.set(`${appId}/${id}`, kind);
	}
	const out = new Map<number, AccountKind>();
	for (const id of ids) {
		const kind = kinds.get(`${appId}/${id}`);
		if (kind) out.set(id, kind);
	}
	return out;
}

/** Which of `ids` are registered users of the app. */
export async function existingUsers(db: Database, appId: number, ids: number[]): Promise<Set<number>> {
	const found = await accountKinds(db, appId, ids);
	return new Set(ids.filter((id) => found.get(id) === "user"));
}

/** Whether `id` names a user or a group of the app (null: neither). */
export async function accountKind(db: Database, appId: number, id: number): Promise<AccountKind | null> {
	return (await accountKinds(db, appId, [id])).get(id) ?? null;
}
