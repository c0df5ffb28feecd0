import { MAX_BODY_BYTES } from "../limits";
import { ApiError, badRequest } from "./envelope";

/**
 * Reads a JSON object body, refusing more than 64 KiB before parsing (docs/API.md "Conventions"):
 * first by Content-Length, then while streaming, for bodies sent without one.
 */
export async function readJsonObject(request: Request, { optional = false } = {}): Promise<Record<string, unknown>> {
	const declared = request.headers.get("content-length");
	if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
	// With a Content-Length the HTTP layer ends the body there: one read (a
	// chunk-by-chunk read cost ~8 % of a send's CPU). Without one, count while streaming.
	const bytes = declared !== null ? new Uint8Array(await request.arrayBuffer()) : await readAtMost(request.body, MAX_BODY_BYTES);
	if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
	// An optional body may be left out altogether: no bytes (or only white space) is {}.
	if (optional && new TextDecoder().decode(bytes).trim() === "") return {};
	let parsed: unknown;
	try {
		parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes), revive as Reviver);
	} catch (error) {
		if (error instanceof ApiError) throw error;
		throw badRequest("The request body is not valid JSON.");
	}
	if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
		throw badRequest("The request body must be a JSON object.");
	}
	return parsed as Record<string, unknown>;
}

type Reviver = (key: string, value: unknown) => unknown;

/**
 * A JSON number written with a fraction or an exponent (`457.0`, `457e0`).
 * Every number this API reads is an integer (an id, a count, a type), and
 * such a number must be written as one (docs/API.md, "Ids"): JSON.parse
 * would read `457e0` as 457, so the reviver puts this in its place, which no
 * schema accepts, and the field is refused with its own name.
 */
class NotAnIntegerLiteral {
	constructor(readonly source: string) {}
}

const INTEGER_LITERAL = /^-?[0-9]+$/;

/**
 * - A string must be valid Unicode (docs/API.md, "Lengths"): JSON's `\ud800` escapes can
 *   carry a lone surrogate, which D1 would store mangled (as U+FFFD).
 * - JSON integers beyond 2^53 become BigInt from their source text instead of
 *   a rounded number (int64 transaction ids must keep every digit); schemas
 *   that take a number refuse a BigInt, so an id that large is still a 400.
 * - A number not written as an integer becomes a NotAnIntegerLiteral (refused).
 */
function revive(key: string, value: unknown, context?: { source?: string }): unknown {
	if (typeof value === "string" && !value.isWellFormed()) {
		throw badRequest(`Field "${key}" is not valid Unicode text (it holds a lone surrogate).`);
	}
	const source = context?.source;
	if (typeof value !== "number" || source === undefined) return value;
	if (!INTEGER_LITERAL.test(source)) return new NotAnIntegerLiteral(source);
	return Number.isSafeInteger(value) ? value : BigInt(source);
}

async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
	if (!body) return new Uint8Array();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of body) {
		size += chunk.byteLength;
		if (size > limit) throw tooLarge();
		chunks.push(chunk);
	}
	const out = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}

const tooLarge = () => new ApiError(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
