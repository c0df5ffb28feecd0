// Counts what one request costs: D1 round trips, Durable Object calls and KV
// operations. Tests, the worker and its Durable Objects share one isolate in
// the pool, so spies on the binding prototypes see every call.
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { d1Preparers, d1Sessions } from "./support";

export type Cost = { d1: number; durableObject: number; kv: number };

/** SQL that changes stored data (a statement D1 must send to the primary). */
const WRITE = /^\s*(WITH\b[\s\S]*?\)\s*)?(INSERT|UPDATE|DELETE|REPLACE)\b/i;

const ROUND_TRIPS = ["first", "all", "run", "raw"] as const;

export function meter() {
	const cost: Cost = { d1: 0, durableObject: 0, kv: 0 };
	/** Statements prepared (not a round trip each: a batch carries several), and which of them write. */
	const statements = { count: 0 };
	const writes: string[] = [];
	const d1 = d1Sessions;
	const statement = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as D1PreparedStatement;
	const spies: { mockRestore(): void }[] = [
		countCalls(d1, "batch", () => cost.d1++),
		...d1Preparers.map((preparer) =>
			countCalls(preparer, "prepare", (query) => {
				statements.count++;
				if (typeof query === "string" && WRITE.test(query)) writes.push(query.trim().split(/\s+/).slice(0, 3).join(" "));
			}),
		),
		...ROUND_TRIPS.map((name) => countCalls(statement, name, () => cost.d1++)),
		...(["get", "put", "delete", "list", "getWithMetadata"] as const).map((name) => countCalls(env.DEDUPE, name, () => cost.kv++)),
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
							return Reflect.apply(value, target, args);
						};
					},
				});
			}),
		);
	}
	return {
		cost,
		writes,
		statements,
		reset: () => {
			Object.assign(cost, { d1: 0, durableObject: 0, kv: 0 });
			writes.length = 0;
			statements.count = 0;
		},
		stop: () => {
			for (const spy of spies) spy.mockRestore();
		},
	};
}

function countCalls<T extends object>(target: T, name: keyof T & string, onCall: (...args: unknown[]) => void) {
	const real = target[name] as (...args: unknown[]) => unknown;
	return vi.spyOn(target as Record<string, (...args: unknown[]) => unknown>, name).mockImplementation(function (
		this: unknown,
		...args: unknown[]
	) {
		onCall(...args);
		return real.apply(this, args);
	});
}
