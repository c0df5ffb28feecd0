// Arrange helpers: they go through the public HTTP surface wherever it exists.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { hashAdminToken } from "../src/auth/adminTokens";
import { pairKey } from "../src/conversation/key";
import type { SendInput } from "../src/conversation/send";
import worker from "../src/index";

/** `key` is what clients send as app_id; `appId` is the internal number that rows and KV keys carry. */
export type TestApp = { appId: number; key: string; adminToken: string };
export type Reply = { status: number; headers: Headers; body: { code: number; message: string; data: any; [k: string]: any } };

/**
 * Creates an app the way the operator CLI does: a random token, stored as a
 * hash. Its key is a string, as the source service's AppIDs are.
 */
/**
 * An app as `npm run app:create` makes one: its number from the directory (in DB),
 * its row in the database it is placed on (`database`, default DB).
 */
export async function createApp(
	settings: { key?: string; openRegistration?: boolean; recallWindowS?: number; database?: "DB" | "DB_2" } = {},
): Promise<TestApp> {
	const adminToken = `adm_${crypto.randomUUID().replaceAll("-", "")}`;
	const key = settings.key ?? `app-${crypto.randomUUID().slice(0, 8)}`;
	const binding = settings.database ?? "DB";
	const placed = await env.DB.prepare("INSERT INTO app_directory (key, database_binding) VALUES (?, ?) RETURNING app_id")
		.bind(key, binding)
		.first<{ app_id: number }>();
	if (!placed) throw new Error("directory insert failed");
	await env[binding]
		.prepare(
			"INSERT INTO apps (id, key, name, admin_token_hash, open_registration, recall_window_s, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		)
		.bind(
			placed.app_id,
			key,
			"test",
			await hashAdminToken(adminToken),
			settings.openRegistration ? 1 : 0,
			settings.recallWindowS ?? 120,
			Date.now(),
		)
		.run();
	return { appId: placed.app_id, key, adminToken };
}

export type CallOptions = {
	method?: string;
	/** The app, or the raw app_id header to send. */
	app?: TestApp | string;
	token?: string | null;
	headers?: Record<string, string>;
	body?: unknown;
	rawBody?: BodyInit;
	query?: Record<string, string | number>;
	/** Bindings to use instead of the test pool's (e.g. a deployment's vars). */
	env?: Env;
};

/**
 * One request through the Worker's own fetch handler. The admin token is used
 * unless `token` says otherwise. (The handler is called directly: in the test
 * pool each SELF.fetch costs more than the one before, which would make the
 * thousands of requests of the model-based test take many minutes.
 * test/healthz.test.ts checks the SELF.fetch path itself.)
 */
export async function call(path: string, options: CallOptions = {}): Promise<Reply> {
	const { response, text } = await respond(path, options);
	let parsed: Reply["body"];
	try {
		parsed = JSON.parse(text);
	} catch {
		throw new Error(`non-JSON response ${response.status}: ${text.slice(0, 200)}`);
	}
	return { status: response.status, headers: response.headers, body: parsed };
}

/** The same request as `call`, answered as it came: for answers that are not the JSON envelope. */
export async function respond(path: string, options: CallOptions = {}): Promise<{ response: Response; text: string }> {
	const headers: Record<string, string> = { ...options.headers };
	const app = options.app;
	if (app !== undefined) headers.app_id = typeof app === "string" ? app : app.key;
	const token = options.token === undefined && typeof app === "object" ? app.adminToken : options.token;
	if (token) headers["access-token"] = token;
	let body = options.rawBody;
	if (options.body !== undefined) {
		body = JSON.stringify(options.body, exactBigInts);
		headers["content-type"] = "application/json";
	}
	const url = new URL(`https://im.test${path}`);
	for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
	const ctx = createExecutionContext();
	const request = new Request<unknown, IncomingRequestCfProperties>(url, {
		method: options.method ?? (body === undefined ? "GET" : "POST"),
		headers,
		body,
	});
	const response = await worker.fetch(request, options.env ?? env, ctx);
	const text = await response.text();
	await waitOnExecutionContext(ctx);
	return { response, text };
}

/** BigInt values are written as their exact JSON digits (int64 ids beyond 2^53). */
function exactBigInts(_key: string, value: unknown): unknown {
	return typeof value === "bigint" ? (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(value.toString()) : value;
}

let names = 0;
export async function registerUser(app: TestApp, username = `user${++names}-${crypto.randomUUID().slice(0, 8)}`, password = "secret-pw") {
	const reply = await call("/user/register/v2", { app, body: { username, password } });
	if (reply.status !== 200) throw new Error(`register failed: ${JSON.stringify(reply.body)}`);
	return reply.body.data.user_id as number;
}

export async function userToken(app: TestApp, userId: number, extra: { device_sn?: number; ttl_s?: number } = {}) {
	const reply = await call("/token/issue", { app, body: { user_id: userId, ...extra } });
	if (reply.status !== 200) throw new Error(`token failed: ${JSON.stringify(reply.body)}`);
	return reply.body.data.token as string;
}

export async function send(app: TestApp, token: string | undefined, body: Record<string, unknown>) {
	return call("/message/send", { app, token, body: { type: 1, content_type: 0, ...body } });
}

export async function history(app: TestApp, token: string, query: Record<string, string | number>) {
	return call("/message/conversation", { app, token, query });
}

/** Every message of a conversation, paged with next_msg_id, newest first. */
export async function allMessages(app: TestApp, token: string, peer: number, limit = 100) {
	const out: any[] = [];
	let start = 0;
	for (;;) {
		const page = await history(app, token, { opposite_id: peer, msg_id_start: start, limit });
		if (page.status !== 200) throw new Error(`history failed: ${JSON.stringify(page.body)}`);
		out.push(...page.body.data.messages);
		if (page.body.data.is_last) return out;
		start = page.body.data.next_msg_id;
	}
}

/** Every table of the schema. */
export const TABLES = [
	"app_directory",
	"apps",
	"accounts",
	"users",
	"messages",
	"conversations",
	"conversation_members",
	"send_dedupe",
	"groups",
	"group_members",
	"callback_outbox",
	"online_users",
];

/** A snapshot of every table of every app database, to prove a bad request changed nothing. */
export async function snapshot(): Promise<string> {
	// conversations is a WITHOUT ROWID table: ordered by its key.
	const all = (t: string) => `SELECT * FROM ${t} ORDER BY ${t === "conversations" ? "app_id, conversation_key" : "rowid"}`;
	const parts = [
		...(await env.DB.batch(TABLES.map((t) => env.DB.prepare(all(t))))),
		...(await env.DB_2.batch(TABLES.map((t) => env.DB_2.prepare(all(t))))),
	];
	return JSON.stringify(parts.map((p) => p.results));
}

export async function unreadList(app: TestApp, token: string, query: Record<string, string | number> = {}) {
	return call("/message/unread", { app, token, query });
}

export async function ack(app: TestApp, token: string, peer: number, msgId: number, deviceSn?: number) {
	const query: Record<string, number> = { conversation_id: peer, msg_id: msgId };
	if (deviceSn !== undefined) query.device_sn = deviceSn;
	return call("/message/ack", { app, token, query });
}

export async function recall(
	app: TestApp,
	token: string | undefined,
	conversationId: number,
	msgId: number,
	headers: Record<string, string> = {},
) {
	return call("/message/recall", { app, token, headers, body: { conversation_id: conversationId, msg_id: msgId } });
}

export async function deleteConversation(app: TestApp, token: string, peer: number) {
	return call("/message/conversation", { app, token, method: "DELETE", query: { conversation_id: peer } });
}

/** `userId`'s unread count with `peer`, as their unread list shows it (the admin acting as them); 0 if not listed. */
export async function unreadOf(app: TestApp, userId: number, peer: number): Promise<number> {
	const list = await call("/message/unread", { app, headers: { user_id: String(userId) }, query: { limit: 500 } });
	if (list.status !== 200) throw new Error(`unread failed: ${JSON.stringify(list.body)}`);
	return (list.body.data as any[]).find((e) => e.conversation_id.uid === peer)?.num ?? 0;
}

/** The caller's unread entry for `peer`, or undefined if it is not listed. */
export async function entryFor(app: TestApp, token: string, peer: number) {
	const list = await unreadList(app, token, { limit: 500 });
	if (list.status !== 200) throw new Error(`unread failed: ${JSON.stringify(list.body)}`);
	return (list.body.data as any[]).find((e) => e.conversation_id.uid === peer);
}

/** A one-to-one send handed to a conversation object directly (as sendToTargets would), for tests that drive its queue. */
export function directSend(
	app: TestApp,
	from: number,
	to: number,
	content: string,
	options: { transaction?: SendInput["transaction"]; timestamp?: number } = {},
): SendInput {
	return {
		message: {
			appId: app.appId,
			conversationKey: pairKey(from, to),
			type: 1,
			contentType: 0,
			content,
			attachment: "",
			config: "",
			ext: "",
			fromUid: from,
			fromDeviceSn: 0,
			toUid: to,
			timestamp: options.timestamp ?? Date.now(),
			isSystem: false,
		},
		group: null,
		sender: { userId: from, peerId: to },
		receivers: [{ userId: to, peerId: from }],
		transaction: options.transaction ?? null,
		dedupeWindowMs: 60_000,
		requestId: `direct-${content}`,
	};
}

/**
 * Where every D1 query of the service goes, for spies: a session's prepare and
 * batch (src/db/sessions.ts). A binding's own prepare and batch pass through
 * them too (its always-primary session), so one spy sees every call once.
 */
export const d1Sessions = Object.getPrototypeOf(env.DB.withSession("first-primary")) as D1DatabaseSession;

/** Where statements are prepared: in a session, or on a binding (whose prepare does not pass through a session's). */
export const d1Preparers = [d1Sessions, Object.getPrototypeOf(env.DB)] as Pick<D1DatabaseSession, "prepare">[];
