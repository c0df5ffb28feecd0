// SQL for send_dedupe: the exactly-once authority for transaction_id.
import { and, eq, type SQL, sql } from "drizzle-orm";
import { type Database, errorText, isUniqueViolation } from "./client";
import { sendDedupe } from "./schema";

/**
 * `transactionId` is the exact decimal digits of an int64. Bound as text into
 * the INTEGER column, SQLite stores and compares it as that exact 64-bit
 * integer (column affinity), which a JS number beyond 2^53 could not carry.
 */
export type Transaction = { senderId: number; transactionId: string; targetId: number; bodyHash: string };

/** The transaction's dedupe row, naming `msgId` (in a send batch: the message just inserted). */
export const insertDedupe = (appId: number, t: Transaction, msgId: SQL, createdAt: number) =>
	sql`INSERT INTO send_dedupe (app_id, sender_id, transaction_id, target_id, msg_id, body_hash, created_at)
		VALUES (${appId}, ${t.senderId}, ${t.transactionId}, ${t.targetId}, ${msgId}, ${t.bodyHash}, ${createdAt})`;

/** Every row of one transaction: (app, sender, transaction_id), one per target written. */
const transactionIs = (t: Pick<Transaction, "senderId" | "transactionId">, appId: number) =>
	and(eq(sendDedupe.appId, appId), eq(sendDedupe.senderId, t.senderId), sql`${sendDedupe.transactionId} = ${t.transactionId}`);

/** The rows already written for this transaction (the primary key's prefix: at most one per target). */
export async function findTransaction(db: Database, t: Pick<Transaction, "senderId" | "transactionId">, appId: number) {
	return db
		.select({ targetId: sendDedupe.targetId, msgId: sendDedupe.msgId, bodyHash: sendDedupe.bodyHash, createdAt: sendDedupe.createdAt })
		.from(sendDedupe)
		.where(transactionIs(t, appId))
		.all();
}

/** Forgets a transaction's rows whose dedupe window has passed, so its id can be used again. */
export async function forgetTransaction(
	db: Database,
	t: Pick<Transaction, "senderId" | "transactionId">,
	appId: number,
	olderThanMs: number,
) {
	await db.delete(sendDedupe).where(and(transactionIs(t, appId), sql`${sendDedupe.createdAt} < ${olderThanMs}`));
}

/**
 * A write that met an earlier execution of its transaction_id: the row for its
 * own target exists (primary key), or a row for another request does (the
 * trigger of migrations/0005).
 */
export const isTransactionHit = (error: unknown): boolean =>
	isUniqueViolation(error, "send_dedupe") || errorText(error).includes(OTHER_REQUEST);

const OTHER_REQUEST = "send_dedupe: transaction_id used for another request";
