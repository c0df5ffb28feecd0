// Every D1 query the service runs lives here. Each one is backed by an index
// (test/query-plans.test.ts checks them with EXPLAIN QUERY PLAN).
import { and, desc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { DrizzleQueryError } from "drizzle-orm/errors";
import * as schema from "./schema";
import { accounts, apps, conversationMembers, messages, sendDedupe, users } from "./schema";

export type Database = DrizzleD1Database<typeof schema>;
export const database = (d1: D1Database): Database => drizzle(d1, { schema });

export type AppRecord = Pick<typeof apps.$inferSelect, "id" | "adminTokenHash" | "openRegistration" | "recallWindowS">;
export type MessageRow = typeof messages.$inferSelect;
export type MemberRow = typeof conversationMembers.$inferSelect;

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

// ---- users ------------------------------------------------------------------

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

export async function findTransaction(db: Database, t: Omit<Transaction, "bodyHash">, appId: number) {
	return db
		.select({ msgId: sendDedupe.msgId, bodyHash: sendDedupe.bodyHash, createdAt: sendDedupe.createdAt })
		.from(sendDedupe)
		.where(
			and(
				eq(sendDedupe.appId, appId),
				eq(sendDedupe.senderId, t.senderId),
				eq(sendDedupe.transactionId, t.transactionId),
				eq(sendDedupe.targetId, t.targetId),
			),
		)
		.get();
}

/** Forgets a transaction whose dedupe window has passed, so its id can be used again. */
export async function forgetTransaction(db: Database, t: Omit<Transaction, "bodyHash">, appId: number, olderThanMs: number) {
	await db
		.delete(sendDedupe)
		.where(
			and(
				eq(sendDedupe.appId, appId),
				eq(sendDedupe.senderId, t.senderId),
				eq(sendDedupe.transactionId, t.transactionId),
				eq(sendDedupe.targetId, t.targetId),
				sql`${sendDedupe.createdAt} < ${olderThanMs}`,
			),
		);
}

// ---- messages: the read side ------------------------------------------------

export type HistoryPage = {
	rows: MessageRow[];
	/** The caller's and the peer's side of the conversation, if they have one. */
	sides: MemberRow[];
	peerIsUser: boolean;
};

/**
 * One page of history, newest first, from `startId` (inclusive) down, above the
 * caller's clear point; plus both members' sides and whether the peer exists.
 * One D1 round trip.
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
	const clearPoint = sql`coalesce((SELECT ${conversationMembers.clearPoint} FROM ${conversationMembers} WHERE ${conversationMembers.appId} = ${appId} AND ${conversationMembers.userId} = ${callerId} AND ${conversationMembers.conversationKey} = ${conversationKey}), 0)`;
	const [rows, sides, peer] = await db.batch([
		db
			.select()
			.from(messages)
			.where(
				and(
					eq(messages.appId, appId),
					eq(messages.conversationKey, conversationKey),
					startId > 0 ? lte(messages.id, startId) : undefined,
					gt(messages.id, clearPoint),
				),
			)
			.orderBy(desc(messages.id))
			.limit(limit),
		db
			.select()
			.from(conversationMembers)
			.where(
				and(
					eq(conversationMembers.appId, appId),
					eq(conversationMembers.conversationKey, conversationKey),
					inArray(conversationMembers.userId, [callerId, peerId]),
				),
			),
		db
			.select({ id: users.id })
			.from(users)
			.where(and(eq(users.id, peerId), eq(users.appId, appId))),
	]);
	return { rows, sides, peerIsUser: peer.length > 0 };
}
