// Schemas of the integers a request carries (SPEC §2): ids and bounded
// integers, each accepted as a JSON number or a decimal string (query strings
// are strings) and described as exactly that in /openapi.json.
import { z } from "zod";
import { MAX_ID } from "../limits";

const POSITIVE = /^[1-9][0-9]{0,15}$/;
const NON_NEGATIVE = /^(0|[1-9][0-9]{0,15})$/;

/** Parses an id given as a JSON number or a decimal string; null for anything else (negative, fraction, > 2^53-1). */
export function parseId(value: unknown, { allowZero = false } = {}): number | null {
	const parsed = (allowZero ? peerId : id).safeParse(value);
	return parsed.success ? parsed.data : null;
}

function idOf(allowZero: boolean, description: string) {
	const what = `must be ${allowZero ? "a non-negative" : "a positive"} integer id (at most 2^53-1)`;
	const error = (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : what);
	return z
		.union(
			[
				z
					.int({ error })
					.min(allowZero ? 0 : 1, { error })
					.max(MAX_ID, { error }),
				z.string({ error }).regex(allowZero ? NON_NEGATIVE : POSITIVE, { error }),
			],
			{ error },
		)
		.transform(Number)
		.refine((n) => n <= MAX_ID, { error: what })
		.meta({ description });
}

/** A user, group or message id. */
export const id = idOf(false, "An id: a positive integer up to 2^53-1, as a JSON number or a decimal string.");
/** A peer: a user or group id, or 0 for the system account. */
export const peerId = idOf(true, "A user or group id, or 0 for the system account; a JSON number or a decimal string.");
/** A device serial number. */
export const deviceSn = idOf(true, "A device serial number: a non-negative integer, as a JSON number or a decimal string.");

/** An integer in [min, max], given as a JSON number or decimal string. */
export function integerIn(min: number, max: number, description: string) {
	const what = `must be an integer from ${min} to ${max}`;
	const error = (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : what);
	return z
		.union([z.int({ error }).min(min, { error }).max(max, { error }), z.string({ error }).regex(/^-?(0|[1-9][0-9]{0,15})$/, { error })], {
			error,
		})
		.transform(Number)
		.refine((n) => n >= min && n <= max, { error: what })
		.meta({ description });
}

/** An id as a response carries it: always a JSON number. */
export const idOut = z.int().min(0).max(MAX_ID);
