// Requests made from the OpenAPI document rather than from our code: a
// fast-check arbitrary for the subset of JSON Schema the document uses, and
// the single-rule violations of a schema. test/openapi.test.ts sends both.
import fc from "fast-check";

export type JsonSchema = {
	$ref?: string;
	type?: string;
	format?: string;
	anyOf?: JsonSchema[];
	oneOf?: JsonSchema[];
	enum?: unknown[];
	const?: unknown;
	not?: { enum?: unknown[] };
	minimum?: number;
	maximum?: number;
	minLength?: number;
	maxLength?: number;
	pattern?: string;
	items?: JsonSchema;
	minItems?: number;
	maxItems?: number;
	uniqueItems?: boolean;
	properties?: Record<string, JsonSchema>;
	required?: string[];
};

export type Components = Record<string, JsonSchema>;

const resolve = (schema: JsonSchema, components: Components): JsonSchema =>
	schema.$ref ? resolve(components[schema.$ref.replace("#/components/schemas/", "")] ?? {}, components) : schema;

/** Values the schema calls valid. Strings stay short and valid Unicode; arrays stay small. */
export function arbitraryOf(schema: JsonSchema, components: Components = {}): fc.Arbitrary<unknown> {
	const s = resolve(schema, components);
	const base = baseArbitrary(s, components);
	const excluded = s.not?.enum;
	return excluded ? base.filter((v) => !excluded.includes(v)) : base;
}

function baseArbitrary(s: JsonSchema, components: Components): fc.Arbitrary<unknown> {
	const choices = s.anyOf ?? s.oneOf;
	if (choices) return fc.oneof(...choices.map((c) => arbitraryOf(c, components)));
	if (s.enum) return fc.constantFrom(...s.enum);
	if (s.const !== undefined) return fc.constant(s.const);
	switch (s.type) {
		case "integer":
			// An unbounded int64 (transaction_id): any of them, sent as exact JSON digits (BigInt, see support.ts).
			if (s.format === "int64" && s.minimum === undefined && s.maximum === undefined) {
				return fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
			}
			return fc.oneof(
				fc.integer({ min: Math.max(s.minimum ?? -1000, Number.MIN_SAFE_INTEGER), max: Math.min(s.maximum ?? 1000, 1000) }),
				fc.constantFrom(...[s.minimum, s.maximum].filter((n): n is number => n !== undefined)),
			);
		case "string":
			if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
			return fc.string({ unit: "grapheme", minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 30, 30) });
		case "boolean":
			return fc.boolean();
		case "array": {
			const items = arbitraryOf(s.items ?? {}, components);
			const size = { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 5, 5) };
			return s.uniqueItems ? fc.uniqueArray(items, { ...size, selector: (v) => String(v) }) : fc.array(items, size);
		}
		case "object": {
			const properties = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, arbitraryOf(v, components)]));
			return fc.record(properties, { requiredKeys: s.required ?? [] });
		}
		default:
			return fc.anything();
	}
}

export type Violation = { rule: string; value: unknown } | { rule: "missing"; value?: undefined };

/**
 * Values that break exactly one rule of `schema`, given a valid `sample`
 * (the "missing" rule is for required properties). `inQuery`: the value
 * travels as text, so a wrong JSON type cannot be expressed.
 */
export function violationsOf(schema: JsonSchema, sample: unknown, components: Components, inQuery: boolean): Violation[] {
	const s = resolve(schema, components);
	const out: Violation[] = [];
	const types = (s.anyOf ?? [s]).map((c) => resolve(c, components).type);
	if (!inQuery) {
		if (!types.includes("string") && !s.enum?.some((e) => typeof e === "string"))
			out.push({ rule: "type: an object", value: { not: "this" } });
		if (!types.includes("integer") && !types.includes("number")) out.push({ rule: "type: a number", value: 12.5 });
	}
	if (types.includes("integer") || types.includes("number")) {
		out.push({ rule: "not a number", value: "not-a-number" });
		if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) out.push({ rule: "above maximum", value: s.maximum + 1 });
		if (s.minimum !== undefined) out.push({ rule: "below minimum", value: s.minimum - 1 });
		if (s.format === "int64" && s.maximum === undefined)
			out.push({ rule: "beyond int64", value: 2n ** 63n }, { rule: "below int64", value: -(2n ** 63n) - 1n });
		out.push({ rule: "a fraction", value: (s.minimum ?? 0) + 0.5 });
	}
	if (s.type === "string") {
		if (s.maxLength !== undefined) out.push({ rule: "longer than maxLength", value: "x".repeat(s.maxLength + 1) });
		const pattern = s.pattern ? new RegExp(s.pattern) : null;
		const against = pattern && ["not valid!", " padded ", "", "x"].find((c) => !pattern.test(c));
		if (against !== null && against !== undefined) out.push({ rule: "against pattern", value: against });
	}
	for (const excluded of s.not?.enum ?? []) out.push({ rule: "an excluded value", value: excluded });
	if (s.type === "array" && Array.isArray(sample)) {
		if ((s.minItems ?? 0) > 0) out.push({ rule: "fewer than minItems", value: [] });
		const item = resolve(s.items ?? {}, components);
		const integers = item.type === "integer" || item.anyOf?.some((c) => resolve(c, components).type === "integer");
		if (s.maxItems !== undefined && integers)
			out.push({ rule: "more than maxItems", value: Array.from({ length: s.maxItems + 1 }, (_, i) => i + 1) });
		if (s.uniqueItems && sample.length > 0) out.push({ rule: "a repeated item", value: [sample[0], sample[0]] });
	}
	return out;
}
