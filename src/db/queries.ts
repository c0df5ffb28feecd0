// Every D1 query the service runs lives here. Each one is backed by an index
// (test/query-plans.test.ts checks them with EXPLAIN QUERY PLAN).
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";
import { accounts, apps, conversationMembers, messages, sendDedupe, users } from "./schema";

export type Database = DrizzleD1Database<typeof schema> & { $client: D1Database };
const databases = new WeakMap<D1Database, Database>();
const dialect = new SQLiteAsyncDialect();

/**
 * Runs hand-written statements (drizzle `sql` templates, parameters bound) as
 * ONE atomic D1 batch. drizzle's own batch cannot take raw SQL with
 * parameters, and some statements here (conditional updates, a context row
 * joined to a page) are clearer as SQL than as builder calls.
 */
export async function batchSql(db: Database, statements: SQL[]): Promise<D1Result<Record<string, unknown>>[]> {
	return db.$client.batch(
		statements.map((statement) => {
			const query = dialect.sqlToQuery(statement);
			return db.$client.prepare(query.sql).bind(...query.params);
		}),
	);
}
/** The drizzle handle for a D1 binding, built once per isolate (building it walks the whole schema). */
export function database(d1: D1Database): Database {
	let db = databases.get(d1);
	if (!db) {
		db = drizzle(d1, { schema });
		databases.set(d1, db);
	}
	return db;
}

export type AppRecord = Pick<typeof apps.$inferSelect, "id" | "adminTokenHash" | "openRegistration" | "recallWindowS">;
export type MessageRow = typeof messages.$inferSelect;

// ---- apps -------------------------------------------------------------------

export async function findApp(db: Database, appId: number): Promise<AppRecord | undefined> {
	return db
		.select({
			id: apps.id,
			adminTokenHash: apps.adminTokenHash,
			openRegistration: apps.openRegistration,
			recallWindowS: apps.recallWindowS,
		})
		.from(apps)
		.where(eq(apps.id, appId))
		.get();
}

// ---- users and groups share the accounts id space ---------------------------

export async function findAccountKind(db: Database, appId: number, id: number): Promise<"user" | "group" | null> {
	const row = await db
		.select({ kind: accounts.kind })
		.from(accounts)
		.where(and(eq(accounts.id, id), eq(accounts.appId, appId)))
		.get();
	return row?.kind ?? null;
}

export async function findUserByName(db: Database, appId: number, username: string) {
	return db
		.select({ id: users.id, passwordHash: users.passwordHash })
		.from(users)
		.where(and(eq(users.appId, appId), eq(users.username, username)))
		.get();
}

export async function findUserById(db: Database, appId: number, userId: number) {
	return db
		.select({ id: users.id, username: users.username, passwordHash: users.passwordHash })
		.from(users)
		.where(and(eq(users.id, userId), eq(users.appId, appId)))
		.get();
}

/** Which of `ids` are registered users of the app (one query, one bound list). */
export async function registeredUserIds(db: Database, appId: number, ids: number[]): Promise<Set<number>> {
	// CROSS JOIN keeps the id list as the outer loop: one primary-key lookup per
	// id, never a walk over all of the app's users.
	const rows = await db.all<{ id: number }>(
		sql`SELECT ${users.id} AS id FROM json_each(${JSON.stringify(ids)}) AS wanted CROSS JOIN ${users} ON ${users.id} = wanted.value WHERE ${users.appId} = ${appId}`,
	);
	return new Set(rows.map((r) => r.id));
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

export const isUniqueViolation = (error: unknown, table: string): boolean =>
	errorText(error).includes(`UNIQUE constraint failed: ${table}.`);

/** A failed D1 call (drizzle wraps D1's errors): the client should retry. */
export const isStorageFailure = (error: unknown): boolean => error instanceof DrizzleQueryError || errorText(error).includes("D1_");

function errorText(error: unknown): string {
	let text = "";
	for (let e: unknown = error; e instanceof Error; e = e.cause) text += ` ${e.message}`;
	return text;
}

// ---- messages: the write side (run only by the conversation's Durable Object) ----

export type NewMessage = {
	appId: number;
	conversationKey: string;
	type: 1 | 2;
	contentType: number;
	content: string;
	attachment: string;
	config: string;
	ext: string;
	fromUid: number;
	fromDeviceSn: number;
	toUid: number;
	timestamp: number;
	isSystem: boolean;
};

export type ConversationSide = { userId: number; peerId: number };

export type Transaction = { senderId: number; transactionId: number; targetId: number; bodyHash: string };

/**
 * Appends a message in ONE atomic D1 batch: the message, the transaction's
 * dedupe row, the sender's side (read position moves to the message) and every
 * other member's side (unread + 1, conversation shown again).
 * Returns the new message id.
 */
export async function appendMessage(
	db: Database,
	message: NewMessage,
	sender: ConversationSide | null,
	receivers: ConversationSide[],
	transaction: Transaction | null,
): Promise<number> {
	const { appId, conversationKey, timestamp } = message;
	// The id just inserted. Safe inside the batch: it is one transaction and the
	// Durable Object runs one write of this conversation at a time.
	const newId = sql`(SELECT max(${messages.id}) FROM ${messages} WHERE ${messages.appId} = ${appId} AND ${messages.conversationKey} = ${conversationKey})`;
	const memberKey = [conversationMembers.appId, conversationMembers.userId, conversationMembers.conversationKey];

	const insert = db.insert(messages).values(message).returning({ id: messages.id });
	const rest = [];
	if (transaction) {
		rest.push(db.insert(sendDedupe).values({ appId, ...transaction, msgId: newId, createdAt: timestamp }));
	}
	if (sender) {
		rest.push(
			db
				.insert(conversationMembers)
				.values({
					appId,
					conversationKey,
					type: message.type,
					...sender,
					readPosition: newId,
					readDeviceSn: message.fromDeviceSn,
					lastMsgId: newId,
					lastTimestamp: timestamp,
				})
				.onConflictDoUpdate({
					target: memberKey,
					set: {
						readPosition: newId,
						readDeviceSn: message.fromDeviceSn,
						unreadCount: 0,
						lastMsgId: newId,
						lastTimestamp: timestamp,
						deleted: false,
					},
				}),
		);
	}
	for (const receiver of receivers) {
		rest.push(
			db
				.insert(conversationMembers)
				.values({ appId, conversationKey, type: message.type, ...receiver, unreadCount: 1, lastMsgId: newId, lastTimestamp: timestamp })
				.onConflictDoUpdate({
					target: memberKey,
					set: {
						unreadCount: sql`${conversationMembers.unreadCount} + 1`,
						lastMsgId: newId,
						lastTimestamp: timestamp,
						deleted: false,
					},
				}),
		);
	}
	const [inserted] = await db.batch([insert, ...rest]);
	const id = inserted[0]?.id;
	if (!id) throw new Error("message insert returned no id");
	return id;
}

/** The dedupe row's primary key: (app, sender, transaction_id, target). */
const transactionIs = (t: Omit<Transaction, "bodyHash">, appId: number) =>
	and(
		eq(sendDedupe.appId, appId),
		eq(sendDedupe.senderId, t.senderId),
		eq(sendDedupe.transactionId, t.transactionId),
		eq(sendDedupe.targetId, t.targetId),
	);

export async function findTransaction(db: Database, t: Omit<Transaction, "bodyHash">, appId: number) {
	return db
		.select({ msgId: sendDedupe.msgId, bodyHash: sendDedupe.bodyHash, createdAt: sendDedupe.createdAt })
		.from(sendDedupe)
		.where(transactionIs(t, appId))
		.get();
}

/** Forgets a transaction whose dedupe window has passed, so its id can be used again. */
export async function forgetTransaction(db: Database, t: Omit<Transaction, "bodyHash">, appId: number, olderThanMs: number) {
	await db.delete(sendDedupe).where(and(transactionIs(t, appId), sql`${sendDedupe.createdAt} < ${olderThanMs}`));
}

// ---- messages: the read side ------------------------------------------------

export type HistoryPage = {
	rows: MessageRow[];
	/** Whether the caller has a side in the conversation (for a group: is or was a member). */
	hasSide: boolean;
	/** The caller's and the peer's read positions (0 if they have no side yet). */
	myRead: number;
	peerRead: number;
	/** The newest message the peer has fetched. */
	peerDelivered: number;
};

type HistoryRow = {
	has_side: number;
	my_read: number;
	peer_read: number;
	peer_delivered: number;
	id: number | null;
	app_id: number;
	conversation_key: string;
	type: number;
	content_type: number;
	content: string;
	attachment: string;
	config: string;
	ext: string;
	from_uid: number;
	from_device_sn: number;
	to_uid: number;
	timestamp: number;
	recalled: number;
	recalled_by: string | null;
	is_system: number;
};

/**
 * One page of history, newest first, from `startId` (inclusive) down, above the
 * caller's clear point, with both sides' positions and whether the peer exists.
 * One round trip: a batch of two statements. The first records that the caller
 * has now fetched (delivered) everything up to the page's newest message — a
 * max-register, so it needs no serialising by the conversation's object. The
 * second reads the page, left-joined to a context row so that the context
 * comes back even when the page is empty.
 */
export async function historyPage(
	db: Database,
	appId: number,
	conversationKey: string,
	callerId: number,
	peerId: number,
	startId: number,
	limit: number,
): Promise<HistoryPage> {
	const side = (userId: number) =>
		sql`SELECT read_position, delivered_position, clear_point, left_at FROM conversation_members WHERE app_id = ${appId} AND user_id = ${userId} AND conversation_key = ${conversationKey}`;
	const upTo = startId > 0 ? startId : Number.MAX_SAFE_INTEGER;
	const clearPoint = sql`coalesce((SELECT clear_point FROM conversation_members WHERE app_id = ${appId} AND user_id = ${callerId} AND conversation_key = ${conversationKey}), 0)`;
	const newestOnPage = sql`(SELECT max(id) FROM messages WHERE app_id = ${appId} AND conversation_key = ${conversationKey} AND id <= ${upTo} AND id > ${clearPoint})`;
	const [, page] = await batchSql(db, [
		sql`
			UPDATE conversation_members SET delivered_position = ${newestOnPage}
			WHERE app_id = ${appId} AND user_id = ${callerId} AND conversation_key = ${conversationKey}
				AND delivered_position < coalesce(${newestOnPage}, 0)`,
		sql`
			WITH me AS (${side(callerId)}), peer AS (${side(peerId)})
			SELECT
				EXISTS (SELECT 1 FROM me) AS has_side,
				coalesce((SELECT read_position FROM me), 0) AS my_read,
				coalesce((SELECT read_position FROM peer), 0) AS peer_read,
				coalesce((SELECT delivered_position FROM peer), 0) AS peer_delivered,
				page.*
			FROM (SELECT 1) AS context
			LEFT JOIN (
				SELECT * FROM messages
				WHERE app_id = ${appId} AND conversation_key = ${conversationKey}
					AND id <= min(${upTo}, coalesce((SELECT left_at FROM me), ${Number.MAX_SAFE_INTEGER}))
					AND id > coalesce((SELECT clear_point FROM me), 0)
				ORDER BY id DESC LIMIT ${limit}
			) AS page
			ORDER BY page.id DESC`,
	]);
	const rows = (page?.results ?? []) as HistoryRow[];
	const first = rows[0];
	return {
		rows: rows.flatMap((r) => (r.id === null ? [] : [messageFromRow(r as HistoryRow & { id: number })])),
		hasSide: first?.has_side === 1,
		myRead: first?.my_read ?? 0,
		peerRead: first?.peer_read ?? 0,
		peerDelivered: first?.peer_delivered ?? 0,
	};
}

function messageFromRow(r: HistoryRow & { id: number }): MessageRow {
	return {
		id: r.id,
		appId: r.app_id,
		conversationKey: r.conversation_key,
		type: r.type,
		contentType: r.content_type,
		content: r.content,
		attachment: r.attachment,
		config: r.config,
		ext: r.ext,
		fromUid: r.from_uid,
		fromDeviceSn: r.from_device_sn,
		toUid: r.to_uid,
		timestamp: r.timestamp,
		recalled: r.recalled === 1,
		recalledBy: r.recalled_by,
		isSystem: r.is_system === 1,
	};
}
