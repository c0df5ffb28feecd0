// The KV fast path for transaction_id (SPEC §5.1). Never the authority: KV reads
// can be stale and writes are last-write-wins, so the exactly-once guarantee is
// the send_dedupe unique key in D1. A KV failure never fails a request.
//
// Key:   txn/<app_id>/<sender_id>/<transaction_id>
// Value: JSON {hash: sha256 of the normalised request, msg_ids: number[]}
// TTL:   the dedupe window (DEDUPE_WINDOW_S, at least 60 s)

export type ReplayEntry = { hash: string; msg_ids: number[] };

export const replayKey = (appId: number, senderId: number, transactionId: number) => `txn/${appId}/${senderId}/${transactionId}`;

export async function cachedReplay(kv: KVNamespace, key: string, requestId: string): Promise<ReplayEntry | null> {
	try {
		return await kv.get<ReplayEntry>(key, "json");
	} catch (error) {
		console.warn(JSON.stringify({ requestId, at: "cachedReplay", error: String(error) }));
		return null;
	}
}

export async function rememberReplay(kv: KVNamespace, key: string, entry: ReplayEntry, ttlS: number, requestId: string) {
	try {
		await kv.put(key, JSON.stringify(entry), { expirationTtl: ttlS });
	} catch (error) {
		console.warn(JSON.stringify({ requestId, at: "rememberReplay", error: String(error) }));
	}
}
