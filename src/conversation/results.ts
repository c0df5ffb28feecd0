import { describeError, storageFailure } from "../db/client";
import { INTERNAL_ERROR } from "../http/envelope";

/** What a conversation write answers. Plain data: custom errors do not cross the RPC boundary. */
export type Failure = { ok: false; status: 400 | 403 | 404 | 409 | 500 | 503; message: string };

/** A write's answer with the D1 bookmark it committed at (src/db/sessions.ts). */
export type Bookmarked<T> = T & { bookmark?: string | null };

export const failure = (status: Failure["status"], message: string): Failure => ({ ok: false, status, message });

/** A 400 naming the field and the rule it broke. */
export const refusedField = ([field, rule]: [string, string]): Failure => failure(400, `Field "${field}" ${rule}.`);

/** A write that threw: 503 (retry) if D1 failed in a way a retry can get past, else 500. Logged without parameters. */
export const storeFailed = (requestId: string, at: string, error: unknown): Failure => {
	const storage = storageFailure(error);
	console.error(JSON.stringify({ requestId, at, dependency: "D1", retryable: storage?.retryable ?? false, error: describeError(error) }));
	return storage?.retryable ? failure(503, "The message store is unavailable; retry the request.") : failure(500, INTERNAL_ERROR);
};
