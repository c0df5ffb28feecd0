// Schemas of the integers a request carries (docs/API.md "Conventions"): ids and bounded
// integers. Each is a JSON integer, also accepted as its decimal string
// (query strings and headers are strings); /openapi.json shows the integer
// with its bounds, which is how OpenAPI describes a query parameter too.
import { z } from "zod";
import { MAX_ID } from "../limits";

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

/** A decimal string becomes its number; anything else is left for the integer schema to refuse. */
const decimalToNumber = (value: unknown) => (typeof value === "string" && DECIMAL.test(value) ? Number(value) : value);

/** An integer in [min, max], as a JSON number or a decimal string; `what` is the error's wording. */
function integer(min: number, max: number, what: string, description: string) {
	const error = (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : what);
	return z.preprocess(decimalToNumber, z.int({ error }).min(min, { error }).max(max, { error })).meta({ description });
}

const STRINGS_TOO = " A decimal string is accepted too.";

/** A user, group or message id: a positive integer up to 2^53-1. */
export const id = integer(1, MAX_ID, "must be a positive integer id (at most 2^53-1)", `An id.${STRINGS_TOO}`);
/** A peer: a user or group id, or 0 for the system account. */
export const peerId = integer(
	0,
	MAX_ID,
	"must be a non-negative integer id (at most 2^53-1)",
	`A user or group id, or 0 for the system account.${STRINGS_TOO}`,
);
/** A device serial number. */
export const deviceSn = integer(0, MAX_ID, "must be a non-negative integer id (at most 2^53-1)", `A device serial number.${STRINGS_TOO}`);

/** An integer in [min, max]. */
export const integerIn = (min: number, max: number, description: string) =>
	integer(min, max, `must be an integer from ${min} to ${max}`, `${description}${STRINGS_TOO}`);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A request id the source service types int64 (transaction_id, docs/API.md):
 * any integer from -2^63 to 2^63-1, as a JSON number or a decimal string, kept
 * by its exact digits (a canonical decimal string; JSON numbers beyond 2^53
 * arrive as BigInt from the body reader, never rounded). 0 means none.
 */
export function int64Key(description: string) {
	const what = "must be an integer from -2^63 to 2^63-1";
	const error = (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : what);
	const digits = (v: unknown) => ((typeof v === "number" && Number.isSafeInteger(v)) || typeof v === "bigint" ? String(v) : v);
	return z
		.preprocess(
			digits,
			z
				.string({ error })
				// One check: zod runs every check even after one fails, and BigInt() throws on a non-decimal.
				.refine((s) => DECIMAL.test(s) && BigInt(s) >= INT64_MIN && BigInt(s) <= INT64_MAX, { error: what })
				.transform((s) => BigInt(s).toString()),
		)
		.transform((d) => (d === "0" ? undefined : d))
		.meta({ type: "integer", format: "int64", description: `${description} A decimal string is accepted too.` });
}

/** Parses an id given as a JSON number or a decimal string; null for anything else (negative, fraction, > 2^53-1). */
export function parseId(value: unknown, { allowZero = false } = {}): number | null {
	const parsed = (allowZero ? peerId : id).safeParse(value);
	return parsed.success ? parsed.data : null;
}

/** An id as a response carries it: always a JSON number. */
export const idOut = z.int().min(0).max(MAX_ID);
