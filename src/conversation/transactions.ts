// transaction_id inside the conversation object: the D1 dedupe rows are the
// authority (KV reads can be up to 60 s stale, so KV is only a cache). A write whose batch meets them was already
// executed — perhaps by a request whose answer was lost after D1 committed —
// or its id names another request (docs/API.md: one id, one request, whatever
// its targets), so the earlier execution answers instead, or 409.
import type { Database } from "../db/client";
import { findTransaction, forgetTransaction, isTransactionHit, type Transaction } from "../db/dedupe";

export type Once<T> = { kind: "done"; value: T } | { kind: "replay"; msgId: number } | { kind: "conflict" };

export async function once<T>(
	db: Database,
	t: { transaction: Transaction | null; appId: number; nowMs: number; windowMs: number },
	write: () => Promise<T>,
): Promise<Once<T>> {
	// Two rounds at most: the second only after forgetting an expired transaction.
	for (let round = 0; round < 2; round++) {
		try {
			return { kind: "done", value: await write() };
		} catch (error) {
			if (!t.transaction || !isTransactionHit(error)) throw error;
		}
		const { transaction } = t;
		const windowStart = t.nowMs - t.windowMs;
		const earlier = (await findTransaction(db, transaction, t.appId)).filter((row) => row.createdAt >= windowStart);
		if (earlier.some((row) => row.bodyHash !== transaction.bodyHash)) return { kind: "conflict" };
		const mine = earlier.find((row) => row.targetId === transaction.targetId);
		if (mine) return { kind: "replay", msgId: mine.msgId };
		// Only rows past the window stood in the way: forget them and write.
		await forgetTransaction(db, transaction, t.appId, windowStart);
	}
	throw new Error("the transaction could not be renewed");
}

export const USED_FOR_OTHER = "transaction_id was already used for a different request.";
