// A conversation's callback drainer (SPEC §6.2), run by its Durable Object's
// alarm: the oldest pending callback first, the next only after it is
// delivered or dead-lettered, so one conversation's callbacks arrive in commit
// order and each conversation waits only for its own receiver answers.
import { clock } from "../clock";
import { type Settlement, settleAndTakeDue, settleCallbacks } from "../db/callbacks";
import type { Database } from "../db/client";
import { attemptDelivery } from "./deliver";

/** Callbacks read per round trip. */
const BATCH = 25;
/** One alarm run delivers for at most this long, then yields and asks to run again at once. */
const RUN_BUDGET_MS = 30_000;

/**
 * Delivers what is due. Returns when to run again: the time the head
 * callback's next attempt is due, now (budget spent), or null (nothing owed).
 */
export async function drainCallbacks(db: Database, appId: number, conversationKey: string): Promise<number | null> {
	const stopAt = clock.now() + RUN_BUDGET_MS;
	let settled: Settlement[] = [];
	for (;;) {
		const { rows, destination } = await settleAndTakeDue(db, appId, conversationKey, settled, clock.now(), BATCH);
		settled = [];
		if (!destination) return null;
		for (const row of rows) {
			const now = clock.now();
			if (row.nextAttemptAt > now || now >= stopAt) {
				await settleCallbacks(db, settled, now);
				return Math.max(row.nextAttemptAt, now);
			}
			const outcome = await attemptDelivery(row, destination, now);
			settled.push(outcome);
			if (outcome.kind === "retry") {
				await settleCallbacks(db, settled, clock.now());
				return outcome.nextAttemptAt;
			}
		}
	}
}
