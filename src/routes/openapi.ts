// /openapi.json: the OpenAPI 3.1 document, generated from the endpoint
// contracts (the schemas that validate requests) by zod-to-openapi.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { appHeaders, tokenHeaders } from "../auth/identity";
import { MAX_BODY_BYTES } from "../limits";
import type { Endpoint } from "./contract";

const errorEnvelope = z
	.object({
		code: z.int().meta({ description: "Equals the HTTP status." }),
		message: z.string().meta({ description: "One English sentence naming the offending field or rule." }),
		data: z.unknown().meta({ description: "null, except where an endpoint says otherwise (e.g. a send's 503: {failed})." }),
	})
	.meta({ id: "Error" });

/** The statuses every endpoint of an access kind can answer. */
function commonErrors(e: Endpoint): Record<number, string> {
	const out: Record<number, string> = {};
	if (e.access !== "none") {
		out[400] = "Invalid input: the message names the field or rule.";
		out[401] = "Unknown app, or a missing, invalid or expired access-token.";
	}
	if (e.access === "token") out[403] = "Authenticated, but not allowed.";
	if (e.body) out[413] = `The body is larger than ${MAX_BODY_BYTES} bytes.`;
	return out;
}

function headersOf(e: Endpoint): z.ZodObject | undefined {
	if (e.access === "token") return tokenHeaders;
	if (e.access === "app" && e.optionalToken) return appHeaders.extend({ "access-token": tokenHeaders.shape["access-token"].optional() });
	if (e.access === "app") return appHeaders;
	return undefined;
}

const operationId = (method: string, path: string) =>
	method.toLowerCase() + path.replace(/[^A-Za-z0-9]+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "");

export function openApiDocument(endpoints: Endpoint[]) {
	const registry = new OpenAPIRegistry();
	for (const e of endpoints) {
		const success = e.contentType
			? { [e.contentType]: { schema: e.data } }
			: {
					"application/json": {
						schema: z.object({ code: z.literal(200), message: z.literal(""), data: e.data, ...e.extra }),
					},
				};
		const errors = Object.entries({ ...commonErrors(e), ...e.errors }).map(([status, description]) => [
			status,
			{ description, content: { "application/json": { schema: errorEnvelope } } },
		]);
		for (const method of e.methods) {
			registry.registerPath({
				method: method.toLowerCase() as "get" | "post" | "put" | "delete",
				path: e.path,
				operationId: operationId(method, e.path),
				tags: [e.tag],
				summary: e.summary,
				description: e.description,
				request: {
					headers: headersOf(e),
					query: e.query,
					body: e.body ? { required: !e.bodyOptional, content: { "application/json": { schema: e.body } } } : undefined,
				},
				responses: { 200: { description: "Success.", content: success }, ...Object.fromEntries(errors) },
			});
		}
	}
	return new OpenApiGeneratorV31(registry.definitions).generateDocument({
		openapi: "3.1.0",
		info: {
			title: "edge-im",
			version: "1.0.0",
			description:
				"An edge instant-messaging message service, wire-compatible with the message API of the Lanying IM (MaxIM) server. Every response is the envelope `{code, message, data}` with HTTP status = `code`, and carries an `x-request-id` header; the answers of writes, and of any request that presented one, carry `x-d1-bookmark`, which a client may send back as a header so that its next reads may come from a D1 read replica at least that new (a malformed one is 400). Ids are positive integers up to 2^53-1, accepted as JSON numbers or decimal strings. The rules in full: docs/API.md in the repository.",
		},
		tags: [
			{ name: "Messages", description: "Send, history, unread list, read receipts, recall, delete." },
			{ name: "Groups", description: "The group registry; group conversations go through the message endpoints." },
			{ name: "App", description: "The app's settings and its message callbacks (webhooks): what failed, and sending it again." },
			{ name: "Users" },
			{ name: "Tokens" },
			{ name: "Health" },
			{ name: "API", description: "This description." },
		],
	});
}
