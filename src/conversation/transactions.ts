// transaction_id inside the conversation object: the D1 dedupe key is the
// authority (PLATFORM-NOTES §12). A write whose batch hits that key was
// already executed — perhaps by a request whose answer was lost after D1
// committed — so the earlier execution answers instead.
import { type Database, isUniqueViolation } from "../db/client";
import { findTransaction, forgetTransaction, type Transaction } from "../db/dedupe";

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
			if (!t.transaction || !isUniqueViolation(error, "send_dedupe")) throw error;
		}
		const previous = await findTransaction(db, t.transaction, t.appId);
		if (!previous) throw new Error("the transaction's dedupe row vanished");
		const windowStart = t.nowMs - t.windowMs;
		if (previous.createdAt >= windowStart) {
			return previous.bodyHash === t.transaction.bodyHash ? { kind: "replay", msgId: previous.msgId } : { kind: "conflict" };
		}
		await forgetTransaction(db, t.transaction, t.appId, windowStart);
	}
	throw new Error("the transaction could not be renewed");
}

export const USED_FOR_OTHER = "transaction_id was already used for a different request.";
