// An endpoint is one contract object: its method(s), path, who may call it,
// the zod schemas of its query, body and response `data`, and its handler.
// The router and /openapi.json (src/routes/index.ts, openapi.ts) are both
// built from the list of contracts, so a route cannot exist without its
// description, and the schemas that validate a request are the ones the
// document shows.
import type { z } from "zod";
import { authenticate, type Caller, resolveApp } from "../auth/identity";
import type { AppRecord } from "../db/apps";
import type { Database } from "../db/client";
import { d1Binding } from "../db/databases";
import { AppSession, BOOKMARK_HEADER, isBookmark } from "../db/sessions";
import { readJsonObject } from "../http/body";
import { badRequest, ok } from "../http/envelope";
import { type ApiRequest, queryOf } from "../http/request";
import { parse } from "../http/validate";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/**
 * Who may call, and so which headers the request carries (docs/API.md "Apps, credentials and who is acting"):
 * - `none`: nobody needs credentials (health, the API description);
 * - `app`: header `app_id` only (login, open registration);
 * - `token`: `app_id` and `access-token`, with the acting headers
 *   `user_id` / `group_id`; the framework authenticates before the handler runs.
 */
export type Access = "none" | "app" | "token";

type Shape = z.ZodRawShape;
/** No fields: the default query, body and extras. */
type None = Record<never, z.ZodType>;

export type Context<A extends Access> = { request: ApiRequest; env: Env; ctx: ExecutionContext } & (A extends "none"
	? unknown
	: {
			/** The app's database, in this request's session (src/db/sessions.ts). */
			db: Database;
			app: AppRecord;
			/** Where writes made elsewhere (a conversation's object) report their bookmark. */
			session: AppSession;
		}) &
	(A extends "token" ? { caller: Caller } : unknown);

/** What a handler answers: the envelope's `data`, top-level extras (e.g. `msg_ids`) and headers. */
export type Answer<D extends z.ZodType, E extends Shape> = {
	data: z.input<D>;
	headers?: Record<string, string>;
} & ([keyof E] extends [never] ? { extra?: undefined } : { extra: z.input<z.ZodObject<E>> });

export type Spec<A extends Access, Q extends Shape, B extends Shape, D extends z.ZodType, E extends Shape> = {
	methods: Method[];
	path: string;
	/** The group it is listed under in /docs. */
	tag: "Health" | "Users" | "Tokens" | "Messages" | "Groups" | "App" | "API";
	summary: string;
	/** The rules a caller must know that the schemas cannot say (markdown). */
	description: string;
	access: A;
	/** With access "app": the endpoint may also take an access-token (documented as optional). */
	optionalToken?: boolean;
	query?: z.ZodObject<Q>;
	body?: z.ZodObject<B>;
	/** The body may be left out (an empty body reads as {}). */
	bodyOptional?: boolean;
	data: D;
	extra?: E;
	/** Statuses besides 200 and the ones every endpoint of its access can answer, with when. */
	errors?: Record<number, string>;
	handle: (input: Context<A> & { query: z.output<z.ZodObject<Q>>; body: z.output<z.ZodObject<B>> }) => Promise<Answer<D, E>> | Answer<D, E>;
};

/** A contract with its types erased, as the router and the document see it. */
export type Endpoint = {
	methods: Method[];
	path: string;
	tag: string;
	summary: string;
	description: string;
	access: Access;
	optionalToken: boolean;
	query?: z.ZodObject;
	body?: z.ZodObject;
	bodyOptional?: boolean;
	data: z.ZodType;
	extra?: Shape;
	errors: Record<number, string>;
	/** Set when the answer is not the JSON envelope: its media type. */
	contentType?: string;
	serve: (request: ApiRequest, env: Env, ctx: ExecutionContext) => Promise<Response>;
};

export function endpoint<
	A extends Access,
	Q extends Shape = None,
	B extends Shape = None,
	D extends z.ZodType = z.ZodType,
	E extends Shape = None,
>(spec: Spec<A, Q, B, D, E>): Endpoint {
	const serve = async (request: ApiRequest, env: Env, ctx: ExecutionContext): Promise<Response> => {
		let context: Record<string, unknown> = { request, env, ctx };
		let session: AppSession | null = null;
		if (spec.access !== "none") {
			const app = await resolveApp(request, env);
			session = openSession(request, env, app);
			const db = session.db;
			context = { ...context, app, db, session };
			if (spec.access === "token") context.caller = await authenticate(request, env, app, db);
		}
		const query = spec.query ? parse(spec.query, queryOf(request), "query") : {};
		const body = spec.body ? parse(spec.body, await readJsonObject(request, { optional: spec.bodyOptional }), "body") : {};
		const answer = await spec.handle({ ...context, query, body } as Parameters<typeof spec.handle>[0]);
		const bookmark = session?.bookmark();
		return ok(answer.data, answer.extra ?? {}, { ...answer.headers, ...(bookmark ? { [BOOKMARK_HEADER]: bookmark } : {}) });
	};
	return { ...spec, optionalToken: spec.optionalToken ?? false, errors: spec.errors ?? {}, serve };
}

/**
 * The request's session on its app's database: from the client's bookmark
 * (a replica at least that new may serve its reads), else from the primary.
 * A GET without a bookmark reads the primary through the binding itself (its
 * writes, if any, go through conversation objects, which report their own
 * bookmarks; a history read's "delivered up to" is a side effect, not a write
 * the caller asked for).
 */
export function openSession(request: ApiRequest, env: Env, app: AppRecord): AppSession {
	const bookmark = request.headers.get(BOOKMARK_HEADER);
	if (bookmark !== null && !isBookmark(bookmark)) {
		throw badRequest(`Header "${BOOKMARK_HEADER}" must be a bookmark this service answered with, or absent.`);
	}
	return new AppSession(d1Binding(env, app.databaseBinding), bookmark, { sessionless: request.method === "GET" });
}

/** An endpoint that answers something other than the envelope (the API description and its page). */
export function rawEndpoint(spec: {
	path: string;
	summary: string;
	description: string;
	contentType: string;
	data: z.ZodType;
	serve: (request: ApiRequest, env: Env) => Response | Promise<Response>;
}): Endpoint {
	return {
		methods: ["GET"],
		path: spec.path,
		tag: "API",
		summary: spec.summary,
		description: spec.description,
		access: "none",
		optionalToken: false,
		data: spec.data,
		contentType: spec.contentType,
		errors: {},
		serve: async (request, env) => spec.serve(request, env),
	};
}
