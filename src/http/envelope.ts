// The one response envelope of docs/API.md "Conventions": {code, message, data}, HTTP status = code.

/** The one error type: a status, one English sentence, and optional data/headers. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly data: unknown = null,
		readonly headers: Record<string, string> = {},
		readonly extra: Record<string, unknown> = {},
	) {
		super(message);
	}

	/** The error for a failed conversation write (a 503 asks the client to retry). */
	static from(failure: { status: number; message: string }): ApiError {
		return new ApiError(failure.status, failure.message, null, failure.status === 503 ? { "retry-after": "1" } : {});
	}
}

export function ok<T>(data: T, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
	return json(200, { code: 200, message: "", data, ...extra }, headers);
}

export function errorResponse(error: ApiError): Response {
	return json(error.status, { code: error.status, message: error.message, data: error.data, ...error.extra }, error.headers);
}

function json(status: number, body: unknown, headers: Record<string, string>): Response {
	return new Response(JSON.stringify(body), {
		status,
		headers: { "content-type": "application/json; charset=utf-8", ...headers },
	});
}

/** A 500 says nothing more: what failed is in the log line under the request id. */
export const INTERNAL_ERROR = "Internal error; quote the x-request-id header when reporting it.";

export const badRequest = (message: string) => new ApiError(400, message);
export const unauthorized = (message: string) => new ApiError(401, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
/** A dependency (D1, a Durable Object) failed; the client should retry. */
export const unavailable = (message: string, data: unknown = null, extra: Record<string, unknown> = {}) =>
	new ApiError(503, message, data, { "retry-after": "1" }, extra);
