import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type CallOptions, call, createApp, registerUser, send, snapshot, TABLES, type TestApp, userToken } from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let aliceToken: string;

beforeAll(async () => {
	app = await createApp();
	[alice, bob] = [await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
	await send(app, aliceToken, { targets: [bob], content: "existing" });
});

type Case = {
	name: string;
	path?: string;
	status: number;
	/** Text the message must contain: the offending field or rule. */
	names: string;
	options: () => CallOptions;
};

const sendBody = (over: Record<string, unknown>) => ({ type: 1, targets: [bob], content_type: 0, content: "hi", ...over });
const asAlice = (body: unknown): CallOptions => ({ app, token: aliceToken, body });
/** A body sent as written, for number forms JSON.stringify would not produce. */
const raw = (text: string): CallOptions => ({ app, token: aliceToken, rawBody: text, headers: { "content-type": "application/json" } });
const without = (key: string) => {
	const body: Record<string, unknown> = sendBody({});
	delete body[key];
	return body;
};

const cases: Case[] = [
	{ name: "targets is a number", status: 400, names: '"targets"', options: () => asAlice(sendBody({ targets: bob })) },
	{ name: "targets is empty", status: 400, names: '"targets"', options: () => asAlice(sendBody({ targets: [] })) },
	{
		name: "targets has 101 ids",
		status: 400,
		names: '"targets"',
		options: () => asAlice(sendBody({ targets: Array.from({ length: 101 }, (_, i) => i + 1) })),
	},
	{ name: "targets repeats an id", status: 400, names: '"targets"', options: () => asAlice(sendBody({ targets: [bob, bob] })) },
	{ name: "target is negative", status: 400, names: '"targets[0]"', options: () => asAlice(sendBody({ targets: [-3] })) },
	{ name: "target is fractional", status: 400, names: '"targets[0]"', options: () => asAlice(sendBody({ targets: [1.5] })) },
	{ name: "target above 2^53-1", status: 400, names: '"targets[0]"', options: () => asAlice(sendBody({ targets: [2 ** 53] })) },
	{ name: "target as exponent string", status: 400, names: '"targets[0]"', options: () => asAlice(sendBody({ targets: ["1e3"] })) },
	// JSON.parse reads 457e0 and 457.0 as 457: the number's own text decides (docs/API.md, "Ids").
	{
		name: "target written with an exponent",
		status: 400,
		names: '"targets[0]"',
		options: () => raw(`{"type":1,"targets":[${bob}e0],"content_type":0,"content":"hi"}`),
	},
	{
		name: "target written with a fraction",
		status: 400,
		names: '"targets[0]"',
		options: () => raw(`{"type":1,"targets":[${bob}.0],"content_type":0,"content":"hi"}`),
	},
	{
		name: "type written with an exponent",
		status: 400,
		names: '"type"',
		options: () => raw(`{"type":1E0,"targets":[${bob}],"content_type":0,"content":"hi"}`),
	},
	{
		name: "transaction_id written with an exponent",
		status: 400,
		names: '"transaction_id"',
		options: () => raw(`{"type":1,"targets":[${bob}],"content_type":0,"content":"hi","transaction_id":4.2e1}`),
	},
	{ name: "target as empty string", status: 400, names: '"targets[0]"', options: () => asAlice(sendBody({ targets: [""] })) },
	{ name: "target is zero", status: 400, names: '"targets[0]"', options: () => asAlice(sendBody({ targets: [0] })) },
	{ name: "target is unknown", status: 404, names: "123456789", options: () => asAlice(sendBody({ targets: [123456789] })) },
	{ name: "target is the sender", status: 400, names: '"targets"', options: () => asAlice(sendBody({ targets: [alice] })) },
	{ name: "targets missing", status: 400, names: '"targets" is required', options: () => asAlice(without("targets")) },
	{ name: "type missing", status: 400, names: '"type" is required', options: () => asAlice(without("type")) },
	{ name: "type 3", status: 400, names: '"type"', options: () => asAlice(sendBody({ type: 3 })) },
	{ name: "type as text", status: 400, names: '"type"', options: () => asAlice(sendBody({ type: "chat" })) },
	{ name: "content_type missing", status: 400, names: '"content_type" is required', options: () => asAlice(without("content_type")) },
	{ name: "content_type 8 (unknown)", status: 400, names: '"content_type"', options: () => asAlice(sendBody({ content_type: 8 })) },
	{ name: "content_type 99", status: 400, names: '"content_type"', options: () => asAlice(sendBody({ content_type: 99 })) },
	{ name: "content_type negative", status: 400, names: '"content_type"', options: () => asAlice(sendBody({ content_type: -1 })) },
	{ name: "content is a number", status: 400, names: '"content"', options: () => asAlice(sendBody({ content: 5 })) },
	{ name: "content too long", status: 400, names: '"content"', options: () => asAlice(sendBody({ content: "x".repeat(10_001) })) },
	{ name: "TEXT without content", status: 400, names: '"content"', options: () => asAlice(sendBody({ content: "" })) },
	{ name: "ext is an object", status: 400, names: '"ext"', options: () => asAlice(sendBody({ ext: { a: 1 } })) },
	{ name: "config too long", status: 400, names: '"config"', options: () => asAlice(sendBody({ config: "c".repeat(4097) })) },
	{ name: "IMAGE without attachment", status: 400, names: '"attachment"', options: () => asAlice(sendBody({ content_type: 1 })) },
	{
		name: "IMAGE with a javascript: url",
		status: 400,
		names: '"attachment"',
		options: () => asAlice(sendBody({ content_type: 1, attachment: '{"url":"javascript:alert(1)"}' })),
	},
	{
		name: "transaction_id 2^63 (beyond int64)",
		status: 400,
		names: '"transaction_id"',
		options: () => asAlice(sendBody({ transaction_id: "9223372036854775808" })),
	},
	{ name: "transaction_id fractional", status: 400, names: '"transaction_id"', options: () => asAlice(sendBody({ transaction_id: 2.5 })) },
	{ name: "from_user_id as boolean", status: 400, names: '"from_user_id"', options: () => asAlice(sendBody({ from_user_id: true })) },
	{ name: "body is not JSON", status: 400, names: "JSON", options: () => ({ app, token: aliceToken, rawBody: "{type:1" }) },
	{ name: "body is an array", status: 400, names: "object", options: () => ({ app, token: aliceToken, rawBody: "[]" }) },
	{
		name: "body is oversize",
		status: 413,
		names: "larger than 65536 bytes",
		options: () => asAlice(sendBody({ content: "x".repeat(70_000) })),
	},
	{ name: "app_id header missing", status: 400, names: '"app_id"', options: () => ({ token: aliceToken, body: sendBody({}) }) },
	{
		name: "app_id header with a slash",
		status: 400,
		names: '"app_id"',
		options: () => ({ token: aliceToken, headers: { app_id: "a/b" }, body: sendBody({}) }),
	},
	{ name: "access-token missing", status: 401, names: '"access-token"', options: () => ({ app, token: null, body: sendBody({}) }) },
	{
		name: "user_id header malformed",
		status: 400,
		names: '"user_id"',
		options: () => ({ app, headers: { user_id: "abc" }, body: sendBody({}) }),
	},
	{
		name: "history opposite_id malformed",
		path: "/message/conversation",
		status: 400,
		names: '"opposite_id"',
		options: () => ({ app, token: aliceToken, query: { opposite_id: "1.5" } }),
	},
	{
		name: "history msg_id_start negative",
		path: "/message/conversation",
		status: 400,
		names: '"msg_id_start"',
		options: () => ({ app, token: aliceToken, query: { opposite_id: bob, msg_id_start: -5 } }),
	},
	{
		name: "history limit zero",
		path: "/message/conversation",
		status: 400,
		names: '"limit"',
		options: () => ({ app, token: aliceToken, query: { opposite_id: bob, limit: 0 } }),
	},
	{
		name: "register with password as number",
		path: "/user/register/v2",
		status: 400,
		names: '"password"',
		options: () => ({ app, body: { username: "n", password: 123456 } }),
	},
	{
		name: "group create with user_list not an array",
		path: "/group/create",
		status: 400,
		names: '"user_list"',
		options: () => ({ app, token: aliceToken, body: { user_list: bob } }),
	},
	{
		name: "group create with a name too long",
		path: "/group/create",
		status: 400,
		names: '"name"',
		options: () => ({ app, token: aliceToken, body: { name: "n".repeat(101) } }),
	},
	{
		name: "group create naming an unknown user",
		path: "/group/create",
		status: 404,
		names: "123456789",
		options: () => ({ app, token: aliceToken, body: { user_list: [123456789] } }),
	},
	{
		name: "group invite without group_id",
		path: "/group/invite",
		status: 400,
		names: '"group_id"',
		options: () => ({ app, body: { user_list: [bob] } }),
	},
	{
		name: "group invite to an unknown group",
		path: "/group/invite",
		status: 404,
		names: "123456789",
		options: () => ({ app, body: { group_id: 123456789, user_list: [bob] } }),
	},
	{
		name: "group member_list with a bad cursor",
		path: "/group/member_list",
		status: 400,
		names: '"cursor"',
		options: () => ({ app, query: { group_id: 1, cursor: "x" } }),
	},
	{ name: "group send to a user id", status: 404, names: "group", options: () => asAlice(sendBody({ type: 2, targets: [bob] })) },
	{
		name: "token/id with user_id huge",
		path: "/token/id",
		status: 400,
		names: '"user_id"',
		options: () => ({ app, token: null, body: { user_id: "99999999999999999999", password: "x" } }),
	},
];

describe("Malformed requests", () => {
	it("has at least 30 cases", () => expect(cases.length).toBeGreaterThanOrEqual(30));

	it.each(cases.map((c) => [c.name, c] as const))("%s → its 4xx naming the field, nothing changed", async (_, c) => {
		const before = await snapshot();
		const reply = await call(c.path ?? "/message/send", c.options());
		expect(reply.status).toBe(c.status);
		expect(reply.body).toMatchObject({ code: c.status, data: null });
		expect(reply.body.message).toContain(c.names);
		expect(reply.body.message).toMatch(/\.$/);
		expect(await snapshot()).toBe(before);
	});
});

describe("text that is not valid Unicode", () => {
	const lone = ["a\ud800b", "\udc00", "x\udc00\ud800y"];
	const fields: [string, string, (text: string) => CallOptions][] = [
		["/message/send", "content", (t) => asAlice(sendBody({ content: t }))],
		["/message/send", "ext", (t) => asAlice(sendBody({ ext: t }))],
		["/message/send", "config", (t) => asAlice(sendBody({ config: t }))],
		["/message/send", "attachment", (t) => asAlice(sendBody({ attachment: t }))],
		["/message/notify", "content", (t) => ({ app, body: sendBody({ content: t }) })],
		["/user/register/v2", "username", (t) => ({ app, body: { username: t, password: "secret-pw" } })],
		["/user/register/v2", "password", (t) => ({ app, body: { username: "surrogate-user", password: `pw-${t}` } })],
		["/user/register/batch", "username", (t) => ({ app, body: { list: [{ username: t, password: "secret-pw" }] } })],
		["/token/user", "name", (t) => ({ app, token: null, body: { name: t, password: "secret-pw" } })],
		["/group/create", "name", (t) => ({ app, token: aliceToken, body: { name: t } })],
		["/group/create", "description", (t) => ({ app, token: aliceToken, body: { description: t } })],
		["/app/settings", "name", (t) => ({ app, body: { name: t } })],
		["/app/settings", "callback_secret", (t) => ({ app, body: { callback_secret: `secret-secret-secret-${t}` } })],
	];

	it(`a lone surrogate in any string field is 400 naming the field, nothing changed (${fields.length * lone.length} cases)`, async () => {
		const before = await snapshot();
		for (const [path, field, options] of fields) {
			for (const text of lone) {
				const reply = await call(path, options(text));
				expect(reply.status, `${path} ${field} ${JSON.stringify(text)}`).toBe(400);
				expect(reply.body.message).toBe(`Field "${field}" is not valid Unicode text (it holds a lone surrogate).`);
			}
		}
		expect(await snapshot()).toBe(before);
	});

	it("10,000 lone surrogates are not 10,000 characters of content: 400", async () => {
		const reply = await call("/message/send", asAlice(sendBody({ content: "\ud800".repeat(10_000) })));
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"content"');
	});

	it("well-formed text outside the BMP (surrogate pairs) is accepted and reads back the same", async () => {
		const text = "emoji 😀 and 𝄞";
		const sent = await call("/message/send", asAlice(sendBody({ content: text })));
		expect(sent.status).toBe(200);
		const page = await call("/message/conversation", { app, token: aliceToken, query: { opposite_id: bob } });
		expect(page.body.data.messages[0].content).toBe(text);
	});
});

describe("the nothing-changed snapshot", () => {
	it("covers every table of the schema (a new table cannot be left out of it)", async () => {
		const rows = await env.DB.prepare(
			"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'd1_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
		).all<{ name: string }>();
		expect(rows.results.map((r) => r.name)).toEqual([...TABLES].sort());
	});
});
