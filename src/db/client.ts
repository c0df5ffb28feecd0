// The D1 handle, atomic batches of hand-written statements, and how D1's
// failures are told apart. The SQL itself lives in one file per aggregate:
// apps.ts, users.ts, messages.ts, dedupe.ts, conversationState.ts, groups.ts
// (each query is backed by an index: test/query-plans.test.ts checks them).
import type { SQL } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

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

export const isUniqueViolation = (error: unknown, table: string): boolean =>
	errorText(error).includes(`UNIQUE constraint failed: ${table}.`);

/** A failed D1 call (drizzle wraps D1's errors): the client should retry. */
export const isStorageFailure = (error: unknown): boolean => error instanceof DrizzleQueryError || errorText(error).includes("D1_");

function errorText(error: unknown): string {
	let text = "";
	for (let e: unknown = error; e instanceof Error; e = e.cause) text += ` ${e.message}`;
	return text;
}
