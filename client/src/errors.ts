/**
 * A call the service refused, or could not answer. `code` is the envelope's
 * (= the HTTP status), or 0 when the service could not be reached at all;
 * `requestId` is the answer's `x-request-id` (quote it when reporting a 500).
 */
export class ImError extends Error {
	constructor(
		readonly code: number,
		message: string,
		readonly requestId: string | null,
		/** The envelope's `data` (e.g. a send's 503: `{failed: [...]}`). */
		readonly data: unknown = null,
		/** Seconds to wait before retrying (a 429 or 503's `Retry-After`). */
		readonly retryAfterS: number | null = null,
	) {
		super(message);
		this.name = "ImError";
	}

	/** Worth retrying: the service was unreachable, busy or rate limiting. */
	get retryable(): boolean {
		return this.code === 0 || this.code === 429 || this.code === 503;
	}
}
