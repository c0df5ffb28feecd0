// The D1 handle, atomic batches of hand-written statements, and how D1's
// failures are told apart. The SQL itself lives in one file per aggregate:
// apps.ts, users.ts, messages.ts, dedupe.ts, conversationState.ts, groups.ts
// (each query is backed by an index: test/query-plans.test.ts checks them).
import type { SQL } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";

export type Database = DrizzleD1Database & { $client: D1Database };
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
/** The drizzle handle for a D1 binding (or session), built once per isolate. No schema: relational queries are not used. */
export function database(d1: D1Database): Database {
	let db = databases.get(d1);
	if (!db) {
		db = drizzle(d1) as Database;
		databases.set(d1, db);
	}
	return db;
}

export const isUniqueViolation = (error: unknown, table: string): boolean =>
	errorText(error).includes(`UNIQUE constraint failed: ${table}.`);

/** A failed D1 call: whether a retry can help, and D1's own words. */
export type StorageFailure = { retryable: boolean; detail: string };

/** D1's words for failures that a later try can get past (a lost connection, overload, a reset, a timeout). */
const RETRYABLE =
	/network connection lost|overloaded|timed? ?out|internal error|was reset|reset because|try again|unavailable|too many requests/i;

/**
 * Tells a D1 failure from other errors, and a transient one (503: retry) from
 * one a retry cannot fix (500: a constraint, a bad statement, a type). D1
 * reports every failure as a plain Error whose message starts with its kind
 * (D1_ERROR, D1_TYPE_ERROR, SQLITE_…); drizzle wraps it in an error whose
 * message holds the SQL and its parameters, which is never used.
 */
export function storageFailure(error: unknown): StorageFailure | null {
	const inner = innermost(error);
	if (!(inner instanceof Error) || !/\b(D1_[A-Z_]+|SQLITE_[A-Z]+)\b/.test(inner.message)) return null;
	return {
		retryable: RETRYABLE.test(inner.message) && !/CONSTRAINT|SQLITE_ERROR|D1_TYPE_ERROR/.test(inner.message),
		detail: redact(inner.message),
	};
}

/** An error as a log line may show it: its kind and words, without SQL parameters or quoted values. */
export function describeError(error: unknown): string {
	const inner = innermost(error);
	return inner instanceof Error ? `${inner.name}: ${redact(inner.message)}` : "unknown error";
}

function innermost(error: unknown): unknown {
	let e = error;
	while (e instanceof DrizzleQueryError && e.cause) e = e.cause;
	return e instanceof DrizzleQueryError ? new Error("a query failed") : e;
}

/** Quoted values in a message (a D1 type error quotes the value it refused) are left out. */
const redact = (message: string) => message.replace(/'[^']*'/g, "'…'").slice(0, 300);

export function errorText(error: unknown): string {
	let text = "";
	for (let e: unknown = error; e instanceof Error; e = e.cause) text += ` ${e.message}`;
	return text;
}
