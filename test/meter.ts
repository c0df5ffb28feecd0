// Counts what one request costs: D1 round trips, Durable Object calls and KV
// operations (`cost`), and the units Cloudflare bills (`units`, docs/COSTS.md):
// D1 rows read and written as D1's own `meta` reports them, object calls,
// the objects' own storage operations, KV reads and writes, Worker requests.
// Tests, the worker and its Durable Objects share one isolate in the pool, so
// spies on the binding prototypes see every call.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../src/index";
import { d1Preparers, d1Sessions } from "./support";

export type Cost = { d1: number; durableObject: number; kv: number };

/** What Cloudflare bills, counted (docs/COSTS.md). */
export type Units = {
	workerRequests: number;
	d1RowsRead: number;
	d1RowsWritten: number;
	objectCalls: number;
	/** Rows an object's own SQLite storage reads and writes (KV API, alarms: one row each). */
	objectRowsRead: number;
	objectRowsWritten: number;
	kvReads: number;
	kvWrites: number;
};

export const noUnits = (): Units => ({
	workerRequests: 0,
	d1RowsRead: 0,
	d1RowsWritten: 0,
	objectCalls: 0,
	objectRowsRead: 0,
	objectRowsWritten: 0,
	kvReads: 0,
	kvWrites: 0,
});

/** SQL that changes stored data (a statement D1 must send to the primary). */
const WRITE = /^\s*(WITH\b[\s\S]*?\)\s*)?(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/** An object's storage and its KV API, whose methods every object of the isolate shares. */
const [objectStorage, objectKv] = await runInDurableObject(env.RATE_LIMITER.getByName("meter-probe"), (_object, state) => [
	Object.getPrototypeOf(state.storage) as DurableObjectStorage,
	Object.getPrototypeOf(state.storage.kv) as SyncKvStorage,
]);

type Meta = { rows_read?: number; rows_written?: number };

export function meter() {
	const cost: Cost = { d1: 0, durableObject: 0, kv: 0 };
	const units = noUnits();
	/** Statements prepared (not a round trip each: a batch carries several), and which of them write. */
	const statements = { count: 0 };
	const writes: string[] = [];
	const d1 = d1Sessions;
	const statement = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as D1PreparedStatement;
	const rows = (meta: Meta | undefined) => {
		units.d1RowsRead += meta?.rows_read ?? 0;
		units.d1RowsWritten += meta?.rows_written ?? 0;
	};
	const realAll = statement.all;
	// raw() and first() answer without D1's meta: metered, they run as all() (one round trip, its meta) and are shaped here.
	const asAll = async (self: D1PreparedStatement) => {
		cost.d1++;
		const result = (await realAll.call(self)) as D1Result<Record<string, unknown>>;
		rows(result.meta);
		return result.results;
	};
	const keyCount = (key: unknown) => (Array.isArray(key) ? key.length : key && typeof key === "object" ? Object.keys(key).length : 1);
	const spies: { mockRestore(): void }[] = [
		vi.spyOn(worker, "fetch").mockImplementation(function (this: unknown, ...args: Parameters<typeof worker.fetch>) {
			units.workerRequests++;
			return realFetch.apply(this, args);
		}),
		around(
			d1,
			"batch",
			() => cost.d1++,
			(results) => {
				for (const result of results as D1Result[]) rows(result.meta);
			},
		),
		...d1Preparers.map((preparer) =>
			around(preparer, "prepare", (query) => {
				statements.count++;
				if (typeof query === "string" && WRITE.test(query)) writes.push(query.trim().split(/\s+/).slice(0, 3).join(" "));
			}),
		),
		around(
			statement,
			"all",
			() => cost.d1++,
			(result) => rows((result as D1Result).meta),
		),
		around(
			statement,
			"run",
			() => cost.d1++,
			(result) => rows((result as D1Result).meta),
		),
		vi.spyOn(statement, "raw").mockImplementation(async function (this: D1PreparedStatement, options?: { columnNames?: boolean }) {
			const results = await asAll(this);
			const values = results.map((r) => Object.values(r));
			return (options?.columnNames ? [Object.keys(results[0] ?? {}), ...values] : values) as never;
		} as D1PreparedStatement["raw"]),
		vi.spyOn(statement, "first").mockImplementation(async function (this: D1PreparedStatement, column?: string) {
			const [row] = await asAll(this);
			return (row === undefined ? null : column === undefined ? row : row[column]) as never;
		} as D1PreparedStatement["first"]),
		...(["get", "getWithMetadata", "list"] as const).map((name) =>
			around(env.DEDUPE, name, () => {
				cost.kv++;
				units.kvReads++;
			}),
		),
		...(["put", "delete"] as const).map((name) =>
			around(env.DEDUPE, name, () => {
				cost.kv++;
				units.kvWrites++;
			}),
		),
		around(objectStorage, "get", (key) => (units.objectRowsRead += keyCount(key))),
		around(objectStorage, "put", (key) => (units.objectRowsWritten += keyCount(key))),
		around(objectStorage, "delete", (key) => (units.objectRowsWritten += keyCount(key))),
		around(objectStorage, "setAlarm", () => units.objectRowsWritten++),
		around(objectStorage, "deleteAlarm", () => units.objectRowsWritten++),
		around(objectKv, "get", () => units.objectRowsRead++),
		around(objectKv, "put", () => units.objectRowsWritten++),
		around(objectKv, "delete", () => units.objectRowsWritten++),
	];
	// Every Durable Object namespace: conversations, rate limiters, users' channels.
	for (const namespace of [env.CONVERSATION, env.RATE_LIMITER, env.USER_CHANNELS] as unknown as DurableObjectNamespace[]) {
		const realGetByName = namespace.getByName.bind(namespace);
		spies.push(
			vi.spyOn(namespace, "getByName").mockImplementation((name: string) => {
				const stub = realGetByName(name);
				return new Proxy(stub, {
					get(target, property) {
						const value = Reflect.get(target, property);
						if (typeof value !== "function" || typeof property !== "string" || property === "then") return value;
						return (...args: unknown[]) => {
							cost.durableObject++;
							units.objectCalls++;
							return Reflect.apply(value, target, args);
						};
					},
				});
			}),
		);
	}
	return {
		cost,
		units,
		writes,
		statements,
		reset: () => {
			Object.assign(cost, { d1: 0, durableObject: 0, kv: 0 });
			Object.assign(units, noUnits());
			writes.length = 0;
			statements.count = 0;
		},
		stop: () => {
			for (const spy of spies) spy.mockRestore();
		},
	};
}

const realFetch = worker.fetch;

/** Spies on `target[name]`: `before` sees the arguments, `after` the awaited result (for promise-returning methods). */
function around<T extends object>(
	target: T,
	name: keyof T & string,
	before: (...args: unknown[]) => void,
	after?: (result: unknown) => void,
) {
	const real = target[name] as (...args: unknown[]) => unknown;
	return vi.spyOn(target as Record<string, (...args: unknown[]) => unknown>, name).mockImplementation(function (
		this: unknown,
		...args: unknown[]
	) {
		before(...args);
		const result = real.apply(this, args);
		if (after && result instanceof Promise) {
			return result.then((value) => {
				after(value);
				return value;
			});
		}
		return result;
	});
}
