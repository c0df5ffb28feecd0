import { z } from "zod";
import { badRequest } from "./envelope";

/**
 * Parses `input` with an endpoint's schema; a failure is a 400 whose message
 * names the first offending field (docs/API.md "Conventions").
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown, where: "body" | "query" | "header"): z.output<S> {
	const result = schema.safeParse(input);
	if (result.success) return result.data;
	const issue = result.error.issues[0];
	const field = issue ? formatPath(issue.path) : "";
	const missing = issue?.code === "invalid_type" && valueAt(input, issue.path) === undefined;
	const reason = missing ? "is required" : (issue?.message ?? "is invalid");
	const noun = where === "header" ? "Header" : where === "query" ? "Query parameter" : "Field";
	throw badRequest(field ? `${noun} "${field}" ${reason}.` : `The request ${where} is invalid: ${reason}.`);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
	let value = input;
	for (const part of path) value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
	return value;
}

function formatPath(path: readonly PropertyKey[]): string {
	let out = "";
	for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${String(part)}` : String(part);
	return out;
}

/** Number of Unicode code points (docs/API.md "Conventions" counts lengths this way). */
export function codePointLength(s: string): number {
	let n = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
			const next = s.charCodeAt(i + 1);
			if (next >= 0xdc00 && next <= 0xdfff) i++;
		}
		n++;
	}
	return n;
}

/**
 * An optional string of at most `max` code points, "" when absent; /openapi.json
 * shows the bound as maxLength (JSON Schema counts code points too).
 */
export function optionalText(max: number, description?: string) {
	return z
		.string({ error: "must be a string" })
		.refine((s) => codePointLength(s) <= max, { message: `must be at most ${max} characters` })
		.default("")
		.meta({ maxLength: max, ...(description ? { description: `${description} At most ${max} characters (code points).` } : {}) });
}

/**
 * Characters a name may not hold (docs/API.md, "Names"): C0 and C1 control
 * characters (NUL, newline, DEL, …) and the bidirectional embeddings,
 * overrides and isolates (U+202A-202E, U+2066-2069), which make a name display
 * as something else. U+200D (zero-width joiner) stays: emoji sequences need it.
 */
const UNSAFE_IN_NAMES = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069";
const UNSAFE_NAME_CHARACTER = new RegExp(`[${UNSAFE_IN_NAMES}]`, "u");

export const hasUnsafeNameCharacter = (s: string): boolean => UNSAFE_NAME_CHARACTER.test(s);
export const UNSAFE_NAME_RULE = "must not contain control characters or bidirectional controls (U+202A-202E, U+2066-2069)";

/** JSON Schema for a text that may not hold those characters. */
export const NO_UNSAFE_CHARACTER_PATTERN = `^[^${UNSAFE_IN_NAMES}]*$`;

/** JSON Schema for a name: no unsafe character, and (trimmed) no white space at either end. */
export const NAME_PATTERN = `^[^\\s${UNSAFE_IN_NAMES}](?:[^${UNSAFE_IN_NAMES}]*[^\\s${UNSAFE_IN_NAMES}])?$`;
