// docs/API.md: /openapi.json describes every endpoint, and the server agrees
// with it — requests made from the document (not from our code) pass
// validation, and a request that breaks one documented rule is a 400 that
// names the field. The document's validity (an OpenAPI 3.1 validator) and
// /docs in a real browser are checked over HTTP in test/e2e/docs.e2e.ts.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { endpoints, router } from "../src/routes";
import { arbitraryOf, type Components, type JsonSchema, violationsOf } from "./schemaArbitrary";
import { type CallOptions, call, createApp, registerUser, respond, type TestApp, userToken } from "./support";

type Parameter = { name: string; in: "query" | "header"; required?: boolean; schema: JsonSchema };
type Operation = {
	parameters?: Parameter[];
	requestBody?: { content: { "application/json": { schema: JsonSchema } } };
	responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Components } };

/** JSON for assertion messages; BigInt (int64 beyond 2^53) shown with its digits. */
const show = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));

let doc: Document;
let app: TestApp;
let alice: number;
let aliceToken: string;

beforeAll(async () => {
	app = await createApp();
	alice = await registerUser(app);
	await registerUser(app);
	aliceToken = await userToken(app, alice);
	const reply = await call("/openapi.json");
	expect(reply.status).toBe(200);
	doc = reply.body as unknown as Document;
});

const operations = () =>
	Object.entries(doc.paths).flatMap(([path, methods]) =>
		Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
	);

/** The credentials a request to `path` is made with: the ones that let it reach its rules. */
function credentialsFor(path: string, method: string): CallOptions {
	const endpoint = endpoints.find((e) => e.path === path && e.methods.includes(method as never));
	if (endpoint?.access === "none") return {};
	if (endpoint?.access === "app") return { app, token: path === "/user/register/v2" ? app.adminToken : null };
	const adminOnly = ["/user/register/batch", "/token/issue", "/message/notify"];
	return { app, token: adminOnly.includes(path) ? app.adminToken : aliceToken };
}

/** 400s that come from rules between fields or about stored data, which a schema does not state (each is in the endpoint's description). */
const RULES_BEYOND_THE_SCHEMA: RegExp[] = [
	/must not name the (sender|caller)/,
	/"password" is required to delete your own account/,
	/is required for (TEXT|LOCATION|COMMAND|FORWARD)/,
	/"attachment" must be a JSON object string/,
	/must name exactly one target for an operation/,
	/"related_mid" is required for an operation/,
	/go through \/message\/send/,
	/would make message \d+ longer/,
];

function request(path: string, method: string, op: Operation, query: Record<string, unknown>, body: unknown): CallOptions {
	const q: Record<string, string> = {};
	for (const [k, v] of Object.entries(query)) if (v !== undefined) q[k] = String(v);
	return { ...credentialsFor(path, method), method, query: q, ...(op.requestBody ? { body } : {}) };
}

function inputArbitraries(op: Operation) {
	const components = doc.components.schemas;
	const queryParams = (op.parameters ?? []).filter((p) => p.in === "query");
	const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, arbitraryOf(p.schema, components)])), {
		requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name),
	});
	const bodySchema = op.requestBody?.content["application/json"].schema;
	const body = bodySchema ? arbitraryOf(bodySchema, components) : fc.constant(undefined);
	return { queryParams, query, bodySchema, body };
}

describe("the API description", () => {
	it("/openapi.json is OpenAPI 3.1, needs no credentials, and names every endpoint with its envelope", async () => {
		expect(doc.openapi).toBe("3.1.0");
		const send = doc.paths["/message/send"]?.post;
		expect(send?.parameters?.map((p) => p.name)).toEqual(["app_id", "access-token", "user_id", "group_id"]);
		const ok = send?.responses["200"]?.content?.["application/json"]?.schema;
		expect(ok?.properties?.code).toMatchObject({ enum: [200] });
		expect(ok?.properties?.msg_ids).toMatchObject({ type: "array" });
		expect(send?.responses["400"]).toBeDefined();
		const history = doc.paths["/message/conversation"]?.get?.responses["200"]?.content?.["application/json"]?.schema;
		expect(JSON.stringify(history)).toContain("#/components/schemas/Message");
		expect(doc.components.schemas.Message?.required).toEqual(expect.arrayContaining(["msg_id", "status", "from_xid", "recalled"]));
	});

	it("every route the router serves is in the document, and every operation in the document is served", async () => {
		const served = router.routes
			.filter(([method]) => method !== "ALL")
			.map(([method, , , path]) => `${method} ${path}`)
			.sort();
		const documented = operations()
			.map(({ path, method }) => `${method} ${path}`)
			.sort();
		expect(documented).toEqual(served);
		expect(served.length).toBeGreaterThanOrEqual(27);
		for (const { path, method, op } of operations()) {
			const { response, text } = await respond(path, { method, ...credentialsFor(path, method) });
			expect([404, 405], `${method} ${path}`).not.toContain(response.status);
			// The media type is the documented one (the envelope's JSON, or /docs' HTML).
			const documented = Object.keys(op.responses[String(response.status)]?.content ?? {});
			expect(documented, `${method} ${path} ${response.status}`).toContain(response.headers.get("content-type")?.split(";")[0]);
			if (path === "/docs") expect(text).toContain("/openapi.json");
		}
	});

	it("requests made from the document pass validation (and the schemas that validate them accept them)", async () => {
		for (const { path, method, op } of operations()) {
			const endpoint = endpoints.find((e) => e.path === path && e.methods.includes(method as never));
			if (!endpoint) throw new Error(`${method} ${path} is documented but has no contract`);
			const { query, body } = inputArbitraries(op);
			await fc.assert(
				fc.asyncProperty(query, body, async (q, b) => {
					if (endpoint.query)
						expect(endpoint.query.safeParse(Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)]))).success).toBe(true);
					if (endpoint.body) expect(endpoint.body.safeParse(b).success, show(b)).toBe(true);
					if (endpoint.contentType) return;
					const reply = await call(path, request(path, method, op, q, b));
					expect(reply.status, `${method} ${path} ${show({ q, b })}: ${reply.body.message}`).toBeLessThan(500);
					// What succeeds answers in the documented shape.
					if (reply.status === 200) {
						expect(endpoint.data.safeParse(reply.body.data).success, `${method} ${path} answer ${JSON.stringify(reply.body.data)}`).toBe(
							true,
						);
					}
					if (reply.status === 400) {
						expect(
							RULES_BEYOND_THE_SCHEMA.some((rule) => rule.test(reply.body.message)),
							`${method} ${path}: ${reply.body.message}`,
						).toBe(true);
					}
				}),
				{ numRuns: 12, seed: 8 },
			);
		}
	});

	it("a request that breaks one documented rule is a 400 naming that field", async () => {
		let tried = 0;
		const components = doc.components.schemas;
		for (const { path, method, op } of operations()) {
			const { queryParams, query, bodySchema, body } = inputArbitraries(op);
			// A valid request, and one field of it broken at a time.
			const [[validQuery, validBody]] = fc.sample(fc.tuple(query, body), { numRuns: 1, seed: 3 }) as [
				[Record<string, unknown>, Record<string, unknown>],
			];
			const broken: { field: string; rule: string; query: Record<string, unknown>; body: unknown }[] = [];
			for (const p of queryParams) {
				const sample = validQuery[p.name];
				for (const v of violationsOf(p.schema, sample, components, true))
					broken.push({ field: p.name, rule: v.rule, query: { ...validQuery, [p.name]: v.value }, body: validBody });
				if (p.required) {
					const { [p.name]: _, ...rest } = validQuery;
					broken.push({ field: p.name, rule: "missing", query: rest, body: validBody });
				}
			}
			const properties = bodySchema?.properties ?? {};
			for (const [name, schema] of Object.entries(properties)) {
				for (const v of violationsOf(schema, validBody?.[name], components, false))
					broken.push({ field: name, rule: v.rule, query: validQuery, body: { ...validBody, [name]: v.value } });
				if (bodySchema?.required?.includes(name)) {
					const { [name]: _, ...rest } = validBody;
					broken.push({ field: name, rule: "missing", query: validQuery, body: rest });
				}
			}
			for (const b of broken) {
				const reply = await call(path, request(path, method, op, b.query, b.body));
				expect(reply.status, `${method} ${path} ${b.field} ${b.rule}: ${JSON.stringify(reply.body)}`).toBe(400);
				expect(reply.body.message, `${method} ${path} ${b.field} ${b.rule}`).toContain(`"${b.field}`);
				tried++;
			}
		}
		expect(tried).toBeGreaterThan(100);
	});

	it("every 200 answer of an endpoint matches its documented data schema", async () => {
		// The schemas are zod's; the test drives a small story and checks each answer against its contract.
		const bob = await registerUser(app);
		const bobToken = await userToken(app, bob);
		const steps: [string, CallOptions][] = [
			["/healthz", {}],
			["/user/register/batch", { app, body: { list: [{ username: `u-${crypto.randomUUID()}`, password: "secret-pw" }] } }],
			["/token/issue", { app, body: { user_id: bob } }],
			["/message/send", { app, token: aliceToken, body: { type: 1, targets: [bob], content_type: 0, content: "hi" } }],
			["/message/notify", { app, body: { type: 1, targets: [bob], content_type: 0, content: "note" } }],
			["/message/conversation", { app, token: bobToken, query: { opposite_id: alice } }],
			["/message/unread", { app, token: bobToken }],
			["/group/create", { app, token: aliceToken, body: { name: "g", user_list: [bob] } }],
			["/group/user_joined", { app, token: bobToken }],
		];
		for (const [path, options] of steps) {
			const reply = await call(path, options);
			expect(reply.status, path).toBe(200);
			const endpoint = endpoints.find((e) => e.path === path);
			const parsed = endpoint?.data.safeParse(reply.body.data);
			expect(parsed?.success, `${path}: ${JSON.stringify(parsed?.error?.issues)}`).toBe(true);
			for (const [name, schema] of Object.entries(endpoint?.extra ?? {}))
				expect(z.safeParse(schema, reply.body[name]).success, `${path} ${name}`).toBe(true);
		}
	});
});
