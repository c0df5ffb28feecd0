import { z } from "zod";

/** Ids are positive integers up to 2^53-1 (SPEC §2). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Accepts a JSON number or a decimal string; rejects negatives, fractions,
 * exponents, empty strings and anything above 2^53-1.
 */
export function parseId(value: unknown, { allowZero = false } = {}): number | null {
	let n: number;
	if (typeof value === "number") n = value;
	else if (typeof value === "string" && DECIMAL.test(value) && value.length <= 16) n = Number(value);
	else return null;
	if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) return null;
	return n;
}

function idOf(allowZero: boolean) {
	const what = allowZero ? "a non-negative integer id" : "a positive integer id";
	return z.unknown().transform((value, ctx) => {
		const id = value === undefined ? null : parseId(value, { allowZero });
		if (id === null) {
			ctx.addIssue({ code: "custom", message: value === undefined ? "is required" : `must be ${what} (at most 2^53-1)` });
			return z.NEVER;
		}
		return id;
	});
}

/** A user, group, message or app id. */
export const id = idOf(false);
/** A peer: a user or group id, or 0 for the system account. */
export const peerId = idOf(true);

/** An integer in [min, max], given as a JSON number or decimal string (query strings are strings). */
export function integerIn(min: number, max: number) {
	return z.unknown().transform((value, ctx) => {
		let n: number | null = null;
		if (typeof value === "number" && Number.isSafeInteger(value)) n = value;
		else if (typeof value === "string" && /^-?(0|[1-9][0-9]{0,15})$/.test(value)) n = Number(value);
		if (value === undefined) {
			ctx.addIssue({ code: "custom", message: "is required" });
			return z.NEVER;
		}
		if (n === null || n < min || n > max) {
			ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}` });
			return z.NEVER;
		}
		return n;
	});
}
