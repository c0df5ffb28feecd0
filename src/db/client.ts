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

/**
 * D1's words for failures a later try can get past: 503 with Retry-After.
 * From Cloudflare's D1 documentation ("Debug D1", the list of D1_ERRORs,
 * checked 2026-12), each marked "Retry the operation" or caused by load that
 * passes:
 * - "D1 DB reset because its code was updated."
 * - "Internal error while starting up D1 DB storage caused object to be reset."
 * - "Internal error in D1 DB storage caused object to be reset."
 * - "D1 DB storage operation exceeded timeout which caused object to be reset."
 * - "Network connection lost."
 * - "Cannot resolve D1 DB due to transient issue on remote node."
 * - "Can't read from request stream because client disconnected."
 * - "D1 DB is overloaded. Requests queued for too long." and "… Too many requests queued."
 * - "D1 DB's isolate exceeded its memory limit and was reset." and "D1 DB
 *   exceeded its CPU time limit and was reset." (the docs advise smaller
 *   queries; ours are bounded by index and limit, so here they mean load)
 * And SQLite's own for a database another writer holds, which local D1 (and
 * a D1 under contention) reports: "database is locked" (SQLITE_BUSY) and
 * "database table is locked" (SQLITE_LOCKED). The runtime itself often hides
 * those behind its generic "internal error; reference = …" (with a D1 write
 * through a session: "Failed to get session commit token: internal error; …"):
 * an internal failure of the platform, not of a statement (a statement's
 * faults come back in D1's or SQLite's words), and measured transient here —
 * test/e2e/locked.e2e.ts holds the local database locked from outside and
 * gets exactly these until it lets go.
 */
const RETRYABLE = [
	/reset because its code was updated/i,
	/caused object to be reset/i,
	/network connection lost/i,
	/transient issue/i,
	/client disconnected/i,
	/is overloaded/i,
	/exceeded its (memory|CPU time) limit/i,
	/database (table )?is locked/i,
	/SQLITE_BUSY|SQLITE_LOCKED/,
	/internal error; reference = /i,
	// The same kinds, as the runtime words them around a D1 call.
	/timed? ?out|try again|temporarily unavailable|too many requests/i,
];

/**
 * D1's words for failures a retry cannot fix: 500, never disguised as 503
 * (docs/API.md, "503 or 500"). D1_TYPE_ERROR and D1_COLUMN_NOTFOUND (a
 * statement that does not fit the schema), D1_EXEC_ERROR (a bad statement),
 * a constraint (SQLITE_CONSTRAINT), SQLITE_ERROR ("no such table":
 * migrations not applied).
 */
/** A failure of D1 (or the runtime beneath it), as its message shows. */
const D1_FAILURE = /\b(D1_[A-Z_]+|SQLITE_[A-Z]+)\b|database (table )?is locked|internal error; reference = /;

const PERMANENT = /D1_TYPE_ERROR|D1_COLUMN_NOTFOUND|D1_EXEC_ERROR|CONSTRAINT|SQLITE_ERROR|no such (table|column)/;

/**
 * Tells a D1 failure from other errors, and a transient one (503: retry) from
 * one a retry cannot fix (500). D1 reports every failure as a plain Error
 * whose message starts with its kind (D1_ERROR, D1_TYPE_ERROR, SQLITE_…);
 * drizzle wraps it in an error whose message holds the SQL and its
 * parameters, which is never used. A D1 failure in neither list is 500: it
 * leans to 503 only when its words show it is transient, since a retry of an
 * unknown failure may repeat a bug and hide it behind "retry" (docs/API.md).
 */
export function storageFailure(error: unknown): StorageFailure | null {
	const inner = innermost(error);
	if (!(inner instanceof Error) || !D1_FAILURE.test(inner.message)) return null;
	return {
		retryable: RETRYABLE.some((words) => words.test(inner.message)) && !PERMANENT.test(inner.message),
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
