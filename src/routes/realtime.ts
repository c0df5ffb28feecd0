// GET /realtime: a device's live channel (docs/API.md "Real-time delivery"), a WebSocket held by the
// user's UserChannels object. Credentials are checked here, before any object
// is called: headers as everywhere, or — browsers cannot set headers on a
// WebSocket — query parameters app_id and access_token.
import { z } from "zod";
import { hashAdminToken } from "../auth/adminTokens";
import { authenticate, requireUser, resolveApp } from "../auth/identity";
import { database } from "../db/client";
import { d1Binding } from "../db/databases";
import { ApiError, unavailable } from "../http/envelope";
import { deviceSn, integerIn } from "../http/ids";
import { type ApiRequest, queryOf } from "../http/request";
import { parse } from "../http/validate";
import { MAX_ID } from "../limits";
import { userChannels } from "../realtime/push";
import type { Endpoint } from "./contract";

const query = z.object({
	app_id: z.string().optional().meta({ description: "For browsers: the app's key (instead of the app_id header)." }),
	access_token: z.string().optional().meta({ description: "For browsers: the token (instead of the access-token header)." }),
	device_sn: deviceSn.optional().meta({ description: "This device (default: the token's)." }),
	since: integerIn(0, MAX_ID, "Resume: the largest msg_id this device has seen; every stored message it missed comes first.").optional(),
});

/** The request with query credentials moved into the headers the rest of the service reads. */
function withCredentials(request: ApiRequest, q: z.output<typeof query>): ApiRequest {
	const headers = new Headers(request.headers);
	if (q.app_id && !headers.has("app_id")) headers.set("app_id", q.app_id);
	if (q.access_token && !headers.has("access-token")) headers.set("access-token", q.access_token);
	return Object.assign(new Request(request.url, { headers }), { requestId: request.requestId }) as unknown as ApiRequest;
}

async function serve(request: ApiRequest, env: Env): Promise<Response> {
	const q = parse(query, queryOf(request), "query");
	if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
		throw new ApiError(426, 'GET /realtime opens a WebSocket: send "Upgrade: websocket".', null, { upgrade: "websocket" });
	}
	const withQuery = withCredentials(request, q);
	const app = await resolveApp(withQuery, env);
	const caller = await authenticate(withQuery, env, app, database(d1Binding(env, app.databaseBinding)));
	const me = requireUser(caller);
	const target = new URL("https://channels/open");
	target.searchParams.set("app", String(app.id));
	target.searchParams.set("user", String(me.userId));
	target.searchParams.set("device_sn", String(q.device_sn ?? me.deviceSn));
	if (q.since !== undefined) target.searchParams.set("since", String(q.since));
	// What the channel's credentials are, so that it ends with them (docs/API.md, "Real-time delivery").
	if (me.expiresMs !== null) target.searchParams.set("expires", String(me.expiresMs));
	else target.searchParams.set("admin", await hashAdminToken(withQuery.headers.get("access-token") ?? ""));
	let answer: Response;
	try {
		answer = await userChannels(env, app.id, me.userId).fetch(target.toString(), { headers: { upgrade: "websocket" } });
	} catch (error) {
		console.error(JSON.stringify({ requestId: request.requestId, at: "realtime", dependency: "Durable Object", error: String(error) }));
		throw unavailable("The realtime service is unavailable; retry.");
	}
	// The object's Response has immutable headers: answered anew, so the router can add x-request-id (the 101 too).
	if (answer.status === 101) return new Response(null, { status: 101, webSocket: answer.webSocket });
	return new Response(answer.body, answer);
}

export const realtime: Endpoint = {
	methods: ["GET"],
	path: "/realtime",
	tag: "Messages",
	summary: "Open a live channel (WebSocket)",
	description:
		'Send `Upgrade: websocket`. Credentials as everywhere (an admin may act as a user with header `user_id`), or as query parameters `app_id` and `access_token` from a browser. The server sends one JSON text frame per event: `{"event": "message", "data": {…the message of /message/conversation, conversation_id, online_only}}`; the client may send the text `ping` and gets `pong`. See the README, "Realtime".',
	access: "token",
	optionalToken: false,
	query,
	data: z.null().meta({ description: "Nothing: the answer is 101 Switching Protocols and the WebSocket." }),
	errors: {
		426: 'Not a WebSocket upgrade: send "Upgrade: websocket".',
		429: "The user already holds the most channels allowed (20).",
		503: "The realtime service is unavailable; retry.",
	},
	serve,
};
