import type { IRequest } from "itty-router";

/** A request as handlers see it: itty's parsed query plus our request id. */
export type ApiRequest = IRequest & { requestId: string };

/** The query string as a plain object of single values (a repeated key keeps its first value). */
export function queryOf(request: ApiRequest): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [key, value] of new URL(request.url).searchParams) if (!(key in out)) out[key] = value;
	return out;
}
