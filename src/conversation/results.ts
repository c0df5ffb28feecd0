/** What a conversation write answers. Plain data: custom errors do not cross the RPC boundary. */
export type Failure = { ok: false; status: 400 | 403 | 404 | 409 | 503; message: string };

export const failure = (status: Failure["status"], message: string): Failure => ({ ok: false, status, message });

export const storeUnavailable = (requestId: string, at: string, error: unknown): Failure => {
	console.error(JSON.stringify({ requestId, at, error: String(error) }));
	return failure(503, "The message store is unavailable; retry the request.");
};
