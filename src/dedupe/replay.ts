// The KV fast path for transaction_id (docs/API.md) around any send-like request:
// answer a repeat from KV when it can, remember a complete success there
// afterwards. Never the authority: KV reads can be stale and writes are
// last-write-wins, so the exactly-once guarantee is the send_dedupe unique key
// in D1. A KV failure never fails a request.
//
// Key:   txn/<app_id>/<sender_id>/<transaction_id>
// Value: JSON {hash: sha256 of the normalised request, msg_ids: number[]}
// TTL:   the dedupe window (DEDUPE_WINDOW_S, at least 60 s)

import { USED_FOR_OTHER } from "../conversation/transactions";
import { conflict } from "../http/envelope";
import { sha256Hex } from "../sha256";

export type ReplayEntry = { hash: string; msg_ids: number[] };

export const replayKey = (appId: number, senderId: number, transactionId: string) => `txn/${appId}/${senderId}/${transactionId}`;

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

export type Idempotency = { key: string; hash: string; transactionId: string; windowS: number; requestId: string };

export async function idempotency(
	appId: number,
	senderId: number,
	transactionId: string | undefined,
	request: unknown,
	windowS: number,
	requestId: string,
): Promise<Idempotency | null> {
	if (transactionId === undefined) return null;
	return {
		key: replayKey(appId, senderId, transactionId),
		hash: await sha256Hex(JSON.stringify(request)),
		transactionId,
		windowS,
		requestId,
	};
}

/** What a send answers: one id per target, and whether it repeated an earlier request. */
export type Sent = { msgIds: number[]; replayed: boolean };

/** The first answer again, if KV remembers this transaction; 409 if it was another request. */
export async function replayFromCache(kv: KVNamespace, t: Idempotency | null): Promise<Sent | null> {
	if (!t) return null;
	const cached = await cachedReplay(kv, t.key, t.requestId);
	if (!cached) return null;
	if (cached.hash !== t.hash) throw conflict(USED_FOR_OTHER);
	return { msgIds: cached.msg_ids, replayed: true };
}

/** Remembers a complete success in KV (after the answer, through waitUntil). */
export function rememberSent(kv: KVNamespace, ctx: ExecutionContext, t: Idempotency | null, sent: Sent): Sent {
	if (t) ctx.waitUntil(rememberReplay(kv, t.key, { hash: t.hash, msg_ids: sent.msgIds }, t.windowS, t.requestId));
	return sent;
}
