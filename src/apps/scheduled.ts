// The Cron Trigger's work (wrangler.toml [triggers]): wake the drainers of
// callbacks that are overdue — owed when the process died between a write's
// commit and its wake-up, or whose wake-up failed — and purge what is over:
// delivered callbacks, expired dead letters, expired dedupe rows (SPEC §7).
import { clock } from "../clock";
import { overdueConversations, purgeExpired } from "../db/callbacks";
import { database } from "../db/client";
import { CALLBACK_DEAD_KEEP_MS, CALLBACK_DELIVERED_KEEP_MS } from "../limits";
import { dedupeWindowS } from "../settings";
import { wakeDrainers } from "./callbacks";

/** A pending callback this far past due has no drainer awake (a live one is at most one 10 s timeout late). */
const OVERDUE_MS = 30_000;
const SWEEP_LIMIT = 500;
const PURGE_LIMIT = 5_000;

export async function runSchedule(env: Env): Promise<{ woken: number; purged: { delivered: number; dead: number; dedupe: number } }> {
	const db = database(env.DB);
	const now = clock.now();
	const overdue = await overdueConversations(db, now - OVERDUE_MS, SWEEP_LIMIT);
	const byApp = new Map<number, string[]>();
	for (const row of overdue) byApp.set(row.app_id, [...(byApp.get(row.app_id) ?? []), row.conversation_key]);
	for (const [appId, keys] of byApp) await wakeDrainers(env, appId, keys, "scheduled");
	const purged = await purgeExpired(
		db,
		{ delivered: now - CALLBACK_DELIVERED_KEEP_MS, dead: now - CALLBACK_DEAD_KEEP_MS, dedupe: now - dedupeWindowS(env) * 1000 },
		PURGE_LIMIT,
	);
	console.log(JSON.stringify({ at: "scheduled", woken: overdue.length, purged }));
	return { woken: overdue.length, purged };
}
