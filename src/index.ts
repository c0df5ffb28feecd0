// The Worker: request id, route table, 404/405 and the one error handler.
import { Router } from "itty-router";
import { isStorageFailure } from "./db/queries";
import { ApiError, errorResponse, unavailable } from "./http/envelope";
import type { ApiRequest, Handler } from "./http/request";
import { groupCreate } from "./routes/groupCreate";
import { groupDestroy } from "./routes/groupDestroy";
import { groupInvite } from "./routes/groupInvite";
import { groupKick } from "./routes/groupKick";
import { groupLeave } from "./routes/groupLeave";
import { groupMemberList } from "./routes/groupMemberList";
import { groupUserJoined } from "./routes/groupUserJoined";
import { healthz } from "./routes/healthz";
import { messageAck } from "./routes/messageAck";
import { messageConversation } from "./routes/messageConversation";
import { messageConversationDelete } from "./routes/messageConversationDelete";
import { messageNotify } from "./routes/messageNotify";
import { messageRecall } from "./routes/messageRecall";
import { messageSend } from "./routes/messageSend";
import { messageUnread } from "./routes/messageUnread";
import { tokenId } from "./routes/tokenId";
import { tokenIssue } from "./routes/tokenIssue";
import { tokenUser } from "./routes/tokenUser";
import { userRegister } from "./routes/userRegister";
import { userRegisterBatch } from "./routes/userRegisterBatch";

export { Conversation } from "./conversation/Conversation";

type Method = "GET" | "POST" | "PUT" | "DELETE";

const routes: [Method[], string, Handler][] = [
	[["GET"], "/healthz", healthz],
	[["POST"], "/user/register/v2", userRegister],
	[["POST"], "/user/register/batch", userRegisterBatch],
	[["POST"], "/token/user", tokenUser],
	[["POST"], "/token/id", tokenId],
	[["POST"], "/token/issue", tokenIssue],
	[["POST", "PUT"], "/message/send", messageSend],
	[["POST", "PUT"], "/message/notify", messageNotify],
	[["GET"], "/message/conversation", messageConversation],
	[["DELETE"], "/message/conversation", messageConversationDelete],
	[["GET"], "/message/unread", messageUnread],
	[["GET"], "/message/ack", messageAck],
	[["POST", "PUT"], "/message/recall", messageRecall],
	[["POST"], "/group/create", groupCreate],
	[["POST"], "/group/invite", groupInvite],
	[["DELETE", "POST"], "/group/kick", groupKick],
	[["DELETE", "POST"], "/group/leave", groupLeave],
	[["GET"], "/group/member_list", groupMemberList],
	[["GET"], "/group/user_joined", groupUserJoined],
	[["DELETE", "POST"], "/group/destroy", groupDestroy],
];

const knownPaths = new Set(routes.map(([, path]) => path));

const router = Router<ApiRequest, [Env, ExecutionContext]>({
	before: [
		(request) => {
			request.requestId = crypto.randomUUID();
		},
	],
	catch: (error, request) => {
		if (error instanceof ApiError) return errorResponse(error);
		if (isStorageFailure(error)) {
			console.error(JSON.stringify({ requestId: request.requestId, dependency: "D1", error: String(error) }));
			return errorResponse(unavailable("The database is unavailable; retry the request."));
		}
		console.error(JSON.stringify({ requestId: request.requestId, error: String(error), stack: (error as Error)?.stack }));
		return errorResponse(new ApiError(500, "Internal error; quote the x-request-id header when reporting it."));
	},
	finally: [
		(response: Response, request) => {
			response.headers.set("x-request-id", request.requestId);
			return response;
		},
	],
});

for (const [methods, path, handler] of routes) {
	for (const method of methods) router[method.toLowerCase()]?.(path, handler);
}
router.all("*", (request) => {
	const { pathname } = new URL(request.url);
	if (knownPaths.has(pathname)) throw new ApiError(405, `Method ${request.method} is not allowed on ${pathname}.`);
	throw new ApiError(404, `No endpoint at ${pathname}.`);
});

export default {
	fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
