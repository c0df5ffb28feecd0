// SQL for users and the accounts id space they share with groups (docs/API.md).
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "./client";
import { accounts, users } from "./schema";

export type AccountKind = "user" | "group";
/** Where a user stands (docs/API.md, "Moderation"). */
export type Standing = "active" | "disabled" | "deleted";
export type Account = { kind: AccountKind; standing: Standing };

/**
 * What each of `ids` names in the app, and where each user stands (one query,
 * one bound list). CROSS JOIN keeps the id list as the outer loop: one
 * primary-key lookup per id, never a walk over all of the app's accounts.
 */
export async function accountsOf(db: Database, appId: number, ids: number[]): Promise<Map<number, Account>> {
	const rows = await db.all<{ id: number; kind: AccountKind; disabled: number | null; deleted_at: number | null }>(
		sql`SELECT ${accounts.id} AS id, ${accounts.kind} AS kind, ${users.disabled} AS disabled, ${users.deletedAt} AS deleted_at
			FROM json_each(${JSON.stringify(ids)}) AS wanted CROSS JOIN ${accounts} ON ${accounts.id} = wanted.value
			LEFT JOIN ${users} ON ${users.id} = ${accounts.id}
			WHERE ${accounts.appId} = ${appId}`,
	);
	return new Map(
		rows.map((r) => [r.id, { kind: r.kind, standing: r.deleted_at !== null ? "deleted" : r.disabled ? "disabled" : "active" }]),
	);
}

export async function findUserByName(db: Database, appId: number, username: string) {
	return db
		.select({ id: users.id, passwordHash: users.passwordHash, disabled: users.disabled, deletedAt: users.deletedAt })
		.from(users)
		.where(and(eq(users.appId, appId), eq(users.username, username)))
		.get();
}

export async function findUserById(db: Database, appId: number, userId: number) {
	return db
		.select({
			id: users.id,
			username: users.username,
			passwordHash: users.passwordHash,
			disabled: users.disabled,
			deletedAt: users.deletedAt,
		})
		.from(users)
		.where(and(eq(users.id, userId), eq(users.appId, appId)))
		.get();
}

/** Which of `usernames` are taken in the app. */
export async function takenUsernames(db: Database, appId: number, usernames: string[]): Promise<Set<string>> {
	const rows = await db
		.select({ username: users.username })
		.from(users)
		.where(and(eq(users.appId, appId), inArray(users.username, sql`(SELECT value FROM json_each(${JSON.stringify(usernames)}))`)));
	return new Set(rows.map((r) => r.username));
}

export type NewUser = { username: string; passwordHash: string };

/**
 * Registers users in one atomic batch: each takes the next id of the app's
 * shared account id space. A taken username fails the whole batch (UNIQUE).
 */
export async function insertUsers(db: Database, appId: number, list: NewUser[], nowMs: number): Promise<number[]> {
	const statements = list.flatMap((user) => [
		db.insert(accounts).values({ appId, kind: "user" }),
		db
			.insert(users)
			.values({ id: sql`last_insert_rowid()`, appId, username: user.username, passwordHash: user.passwordHash, createdAt: nowMs })
			.returning({ id: users.id }),
	]);
	const [first, ...rest] = statements;
	if (!first) return [];
	const results = await db.batch([first, ...rest]);
	return results.filter((_, i) => i % 2 === 1).map((r) => (r as { id: number }[])[0]?.id ?? 0);
}

/** A user's profile as stored ("" where unset). */
export type Profile = {
	userId: number;
	username: string;
	nickName: string;
	avatar: string;
	description: string;
	publicInfo: string;
	privateInfo: string;
};
export type ProfileChange = Partial<Pick<Profile, "nickName" | "avatar" | "description" | "publicInfo" | "privateInfo">>;

const profileColumns = {
	userId: users.id,
	username: users.username,
	nickName: users.nickName,
	avatar: users.avatar,
	description: users.description,
	publicInfo: users.publicInfo,
	privateInfo: users.privateInfo,
};

export async function profileOf(db: Database, appId: number, userId: number): Promise<Profile | undefined> {
	return db
		.select(profileColumns)
		.from(users)
		.where(and(eq(users.id, userId), eq(users.appId, appId)))
		.get();
}

/**
 * Changes the profiles of users of the app in one atomic batch; answers, per
 * entry, whether the user exists (an unknown one changes nothing).
 */
export async function changeProfiles(db: Database, appId: number, list: { userId: number; change: ProfileChange }[]): Promise<boolean[]> {
	const statements = list.map(({ userId, change }) =>
		Object.keys(change).length === 0
			? db
					.select({ id: users.id })
					.from(users)
					.where(and(eq(users.id, userId), eq(users.appId, appId)))
			: db
					.update(users)
					.set(change)
					.where(and(eq(users.id, userId), eq(users.appId, appId)))
					.returning({ id: users.id }),
	);
	const [first, ...rest] = statements;
	if (!first) return [];
	const results = await db.batch([first, ...rest]);
	return results.map((r) => (r as unknown[]).length > 0);
}

/** Disables or enables the users of `ids` that exist and are not deleted; answers which. */
export async function setDisabled(db: Database, appId: number, ids: number[], disabled: boolean): Promise<number[]> {
	const rows = await db
		.update(users)
		.set({ disabled })
		.where(and(eq(users.appId, appId), inArray(users.id, ids), sql`${users.deletedAt} IS NULL`))
		.returning({ id: users.id });
	return rows.map((r) => r.id);
}

/** Deletes a user for good (the row stays, so the id and username are never reused); false if already deleted or unknown. */
export async function markDeleted(db: Database, appId: number, userId: number, nowMs: number): Promise<boolean> {
	const rows = await db
		.update(users)
		.set({ deletedAt: nowMs, passwordHash: "" })
		.where(and(eq(users.appId, appId), eq(users.id, userId), sql`${users.deletedAt} IS NULL`))
		.returning({ id: users.id });
	return rows.length > 0;
}
