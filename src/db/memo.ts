// Isolate-local memory of facts that rarely or never change, so that a request
// path costs one D1 round trip (docs/API.md) once an isolate is warm.
// - Apps: kept APP_TTL_MS. A changed app setting, and the retirement of an
//   old admin token, take effect in every isolate within that time; a new
//   admin token works at once (a token that does not match is checked again
//   against D1).
// - Accounts: whether an id names a user or a group of the app, and where a
//   user stands (active, disabled, deleted: docs/API.md "Moderation"). Ids are
//   never reused, so a group is remembered for good; a user for USER_TTL_MS,
//   so a disable or a delete reaches every isolate within that time (at once
//   in the isolate that made it). Unknown ids are always asked of D1. (Whether
//   a group still takes messages is not remembered: its conversation object
//   checks that.)
import { clock } from "../clock";
import { type AppRecord, findApp } from "./apps";
import { type Database, database } from "./client";
import { d1Binding, placementOfKey } from "./databases";
import { type Account, type AccountKind, accountsOf, type Standing } from "./users";

export const APP_TTL_MS = 60_000;
/** How long a user's standing is remembered: a disabled user's token stops working everywhere within this. */
export const USER_TTL_MS = 30_000;
const MAX_ACCOUNTS = 100_000;

const apps = new Map<string, { record: AppRecord; expires: number }>();
const known = new Map<string, Account & { expires: number }>();

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

/** What each of `ids` is in the app (absent: nothing); one D1 query for the ids not known (or no longer fresh) here. */
export async function accountsById(db: Database, appId: number, ids: number[]): Promise<Map<number, Account>> {
	const now = clock.now();
	const fresh = (id: number) => {
		const hit = known.get(`${appId}/${id}`);
		return hit !== undefined && hit.expires > now ? hit : undefined;
	};
	const unknown = ids.filter((id) => !fresh(id));
	if (unknown.length > 0) {
		const found = await accountsOf(db, appId, unknown);
		if (known.size + found.size > MAX_ACCOUNTS) known.clear();
		for (const [id, account] of found)
			known.set(`${appId}/${id}`, { ...account, expires: account.kind === "group" ? Number.POSITIVE_INFINITY : now + USER_TTL_MS });
	}
	const out = new Map<number, Account>();
	for (const id of ids) {
		const account = known.get(`${appId}/${id}`);
		if (account) out.set(id, { kind: account.kind, standing: account.standing });
	}
	return out;
}

/** What each of `ids` names in the app (a deleted user still names a user: their conversations stay readable). */
export async function accountKinds(db: Database, appId: number, ids: number[]): Promise<Map<number, AccountKind>> {
	return new Map([...(await accountsById(db, appId, ids))].map(([id, account]) => [id, account.kind]));
}

/** Which of `ids` are users of the app that are not deleted (a disabled user is still one). */
export async function existingUsers(db: Database, appId: number, ids: number[]): Promise<Set<number>> {
	const found = await accountsById(db, appId, ids);
	return new Set(ids.filter((id) => found.get(id)?.kind === "user" && found.get(id)?.standing !== "deleted"));
}

/** Where a user stands (undefined: no such user). */
export async function standingOf(db: Database, appId: number, userId: number): Promise<Standing | undefined> {
	const account = (await accountsById(db, appId, [userId])).get(userId);
	return account?.kind === "user" ? account.standing : undefined;
}

/** Forgets users whose standing changed: this isolate reads them again on their next request. */
export function forgetUsers(appId: number, ids: number[]): void {
	for (const id of ids) known.delete(`${appId}/${id}`);
}

/** Whether `id` names a user or a group of the app (null: neither). */
export async function accountKind(db: Database, appId: number, id: number): Promise<AccountKind | null> {
	return (await accountKinds(db, appId, [id])).get(id) ?? null;
}
