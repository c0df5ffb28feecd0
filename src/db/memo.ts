// Isolate-local memory of facts that rarely or never change, so that a request
// path costs one D1 round trip (SPEC §7) once an isolate is warm.
// - Apps: kept APP_TTL_MS. A changed app setting, and the retirement of an
//   old admin token, take effect in every isolate within that time; a new
//   admin token works at once (a token that does not match is checked again
//   against D1).
// - Users: only that a user id exists in an app. Users are never deleted, so
//   a positive answer never goes stale; unknown ids are always asked of D1.
// - Account kinds: whether an id names a user or a group (ids are never reused).
import { clock } from "../clock";
import { type AppRecord, type Database, findAccountKind, findApp, registeredUserIds } from "./queries";

export const APP_TTL_MS = 60_000;
const MAX_USERS = 100_000;

const apps = new Map<number, { record: AppRecord; expires: number }>();
const users = new Set<string>();

/** The app, from memory if seen in the last APP_TTL_MS (unless `fresh`), else from D1. */
export async function appById(db: Database, appId: number, { fresh = false } = {}): Promise<AppRecord | undefined> {
	const now = clock.now();
	const hit = apps.get(appId);
	if (hit && hit.expires > now && !fresh) return hit.record;
	const record = await findApp(db, appId);
	if (record) apps.set(appId, { record, expires: now + APP_TTL_MS });
	else apps.delete(appId);
	return record;
}

/** Which of `ids` are registered users of the app; asks D1 only about ids not seen before. */
export async function existingUsers(db: Database, appId: number, ids: number[]): Promise<Set<number>> {
	const unknown = ids.filter((id) => !users.has(`${appId}/${id}`));
	if (unknown.length > 0) {
		const found = await registeredUserIds(db, appId, unknown);
		if (users.size + found.size > MAX_USERS) users.clear();
		for (const id of found) users.add(`${appId}/${id}`);
	}
	return new Set(ids.filter((id) => users.has(`${appId}/${id}`)));
}

const kinds = new Map<string, "user" | "group">();

/** Whether `id` names a user or a group of the app (null: neither). */
export async function accountKind(db: Database, appId: number, id: number): Promise<"user" | "group" | null> {
	const key = `${appId}/${id}`;
	const known = kinds.get(key);
	if (known) return known;
	const kind = await findAccountKind(db, appId, id);
	if (kind) {
		if (kinds.size >= MAX_USERS) kinds.clear();
		kinds.set(key, kind);
	}
	return kind;
}
