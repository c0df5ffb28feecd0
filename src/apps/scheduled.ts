// The Cron Trigger's work (wrangler.toml [triggers]): wake the drainers of
// callbacks that are overdue — owed when the process died between a write's
// commit and its wake-up, or whose wake-up failed — and purge what is over:
// expired dead letters and expired dedupe rows (docs/API.md; a delivered
// callback is deleted when it is recorded, so none is left to purge).
// In every app database: one that fails is logged and skipped, the others
// are swept all the same.
import { clock } from "../clock";
import { overdueConversations, purgeExpired } from "../db/callbacks";
import { database, describeError } from "../db/client";
import { appDatabaseNames, d1Binding } from "../db/databases";
import { CALLBACK_DEAD_KEEP_MS } from "../limits";
import { dedupeWindowS } from "../settings";
import { wakeDrainers } from "./callbacks";

/** A pending callback this far past due has no drainer awake (a live one is at most one 10 s timeout late). */
const OVERDUE_MS = 30_000;
const SWEEP_LIMIT = 500;
const PURGE_LIMIT = 5_000;

type Swept = { woken: number; purged: { dead: number; dedupe: number } };

export async function runSchedule(env: Env): Promise<Swept & { failed: string[] }> {
	const total: Swept & { failed: string[] } = { woken: 0, purged: { dead: 0, dedupe: 0 }, failed: [] };
	for (const binding of appDatabaseNames(env)) {
		try {
			const swept = await sweep(env, binding);
			total.woken += swept.woken;
			for (const kind of ["dead", "dedupe"] as const) total.purged[kind] += swept.purged[kind];
		} catch (error) {
			total.failed.push(binding);
			console.error(JSON.stringify({ at: "scheduled", database: binding, error: describeError(error) }));
		}
	}
	// A minute that found nothing to do is not worth a log line (one a minute, forever).
	if (total.woken > 0 || total.purged.dead > 0 || total.purged.dedupe > 0) console.log(JSON.stringify({ at: "scheduled", ...total }));
	return total;
}

async function sweep(env: Env, binding: string): Promise<Swept> {
	const db = database(d1Binding(env, binding));
	const now = clock.now();
	const overdue = await overdueConversations(db, now - OVERDUE_MS, SWEEP_LIMIT);
	const byApp = new Map<number, string[]>();
	for (const row of overdue) byApp.set(row.app_id, [...(byApp.get(row.app_id) ?? []), row.conversation_key]);
	for (const [appId, keys] of byApp) await wakeDrainers(env, appId, keys, "scheduled");
	const purged = await purgeExpired(db, { dead: now - CALLBACK_DEAD_KEEP_MS, dedupe: now - dedupeWindowS(env) * 1000 }, PURGE_LIMIT);
	return { woken: overdue.length, purged };
}
