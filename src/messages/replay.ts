// transaction_id around any send-like request: answer a repeat from KV when it
// can, and remember a complete success there afterwards (SPEC §5.1).
import { USED_FOR_OTHER } from "../conversation/transactions";
import { cachedReplay, rememberReplay, replayKey } from "../dedupe/replayCache";
import { conflict, ok } from "../http/envelope";
import { sha256Hex } from "../sha256";

export type Idempotency = { key: string; hash: string; transactionId: number; windowS: number; requestId: string };

export async function idempotency(
	appId: number,
	senderId: number,
	transactionId: number | undefined,
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

/** The first response again, if KV remembers this transaction; 409 if it was another request. */
export async function replayFromCache(kv: KVNamespace, t: Idempotency | null): Promise<Response | null> {
	if (!t) return null;
	const cached = await cachedReplay(kv, t.key, t.requestId);
	if (!cached) return null;
	if (cached.hash !== t.hash) throw conflict(USED_FOR_OTHER);
	return ok(true, { msg_ids: cached.msg_ids }, { "idempotent-replayed": "true" });
}

export function sentResponse(kv: KVNamespace, ctx: ExecutionContext, t: Idempotency | null, msgIds: number[], replayed: boolean): Response {
	if (t) ctx.waitUntil(rememberReplay(kv, t.key, { hash: t.hash, msg_ids: msgIds }, t.windowS, t.requestId));
	return ok(true, { msg_ids: msgIds }, replayed ? { "idempotent-replayed": "true" } : {});
}
