// Every endpoint, and the router built from them: a route exists only as a
// contract, and /openapi.json describes exactly this list.
import { Router } from "itty-router";
import { z } from "zod";
import { describeError, storageFailure } from "../db/client";
import { ApiError, errorResponse, INTERNAL_ERROR, unavailable } from "../http/envelope";
import type { ApiRequest } from "../http/request";
import { appCallbacksFailed, appCallbacksRedeliver } from "./appCallbacks";
import { appSettingsChange, appSettingsGet } from "./appSettings";
import { type Endpoint, rawEndpoint } from "./contract";
import { docsPage } from "./docsPage";
import { groupCreate } from "./groupCreate";
import { groupDestroy } from "./groupDestroy";
import { groupInvite } from "./groupInvite";
import { groupKick } from "./groupKick";
import { groupLeave } from "./groupLeave";
import { groupMemberList } from "./groupMemberList";
import { groupUserJoined } from "./groupUserJoined";
import { healthz } from "./healthz";
import { messageAck } from "./messageAck";
import { messageConversation } from "./messageConversation";
import { messageConversationDelete } from "./messageConversationDelete";
import { messageNotify } from "./messageNotify";
import { messageRecall } from "./messageRecall";
import { messageSend } from "./messageSend";
import { messageUnread } from "./messageUnread";
import { openApiDocument } from "./openapi";
import { realtime } from "./realtime";
import { tokenId } from "./tokenId";
import { tokenIssue } from "./tokenIssue";
import { tokenUser } from "./tokenUser";
import { userDelete, userDisable, userEnable, userOnlineStatus } from "./userModeration";
import { userAvatar, userNickname, userProfileChange, userProfileGet } from "./userProfile";
import { userProfileBatch } from "./userProfileBatch";
import { userRegister } from "./userRegister";
import { userRegisterBatch } from "./userRegisterBatch";

let document: ReturnType<typeof openApiDocument> | undefined;

const openApiJson = rawEndpoint({
	path: "/openapi.json",
	summary: "This API as an OpenAPI 3.1 document",
	description: "Generated from the schemas that validate requests; no credentials needed.",
	contentType: "application/json",
	data: z.record(z.string(), z.unknown()),
	serve: () => {
		document ??= openApiDocument(endpoints); // built once per isolate, on first use
		return Response.json(document);
	},
});

export const endpoints: Endpoint[] = [
	healthz,
	userRegister,
	userRegisterBatch,
	userProfileGet,
	userProfileChange,
	userProfileBatch,
	userDisable,
	userEnable,
	userDelete,
	userOnlineStatus,
	userNickname,
	userAvatar,
	tokenUser,
	tokenId,
	tokenIssue,
	messageSend,
	messageNotify,
	messageConversation,
	messageConversationDelete,
	messageUnread,
	messageAck,
	messageRecall,
	realtime,
	groupCreate,
	groupInvite,
	groupKick,
	groupLeave,
	groupMemberList,
	groupUserJoined,
	groupDestroy,
	appSettingsGet,
	appSettingsChange,
	appCallbacksFailed,
	appCallbacksRedeliver,
	openApiJson,
	docsPage,
];

const knownPaths = new Set(endpoints.map((e) => e.path));

export const router = Router<ApiRequest, [Env, ExecutionContext]>({
	before: [
		(request) => {
			request.requestId = crypto.randomUUID();
		},
	],
	catch: (error, request) => {
		if (error instanceof ApiError) return errorResponse(error);
		const storage = storageFailure(error);
		console.error(
			JSON.stringify({
				requestId: request.requestId,
				...(storage && { dependency: "D1", retryable: storage.retryable }),
				error: describeError(error),
			}),
		);
		if (storage?.retryable) return errorResponse(unavailable("The database is unavailable; retry the request."));
		return errorResponse(new ApiError(500, INTERNAL_ERROR));
	},
	finally: [
		(response: Response, request) => {
			response.headers.set("x-request-id", request.requestId);
			return response;
		},
	],
});

for (const e of endpoints) {
	for (const method of e.methods) router[method.toLowerCase()]?.(e.path, e.serve);
}
router.all("*", (request) => {
	const { pathname } = new URL(request.url);
	if (knownPaths.has(pathname)) throw new ApiError(405, `Method ${request.method} is not allowed on ${pathname}.`);
	throw new ApiError(404, `No endpoint at ${pathname}.`);
});
