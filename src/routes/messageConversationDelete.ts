import { z } from "zod";
import { authenticate, requireUser } from "../auth/identity";
import { conversationObject } from "../conversation/key";
import { conversationWith } from "../conversation/peer";
import { database } from "../db/queries";
import { ApiError, ok } from "../http/envelope";
import { peerId } from "../http/ids";
import { type Handler, queryOf } from "../http/request";
import { parse } from "../http/validate";

const query = z.object({ conversation_id: peerId });

/** DELETE /message/conversation — removes the conversation from the caller's list only. */
export const messageConversationDelete: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const me = requireUser(caller);
	const input = parse(query, queryOf(request), "query");
	const { key: conversationKey } = await conversationWith(db, app.id, me.userId, input.conversation_id, "conversation_id");
	const result = await conversationObject(env, app.id, conversationKey).deleteFor({
		appId: app.id,
		conversationKey,
		userId: me.userId,
		requestId: request.requestId,
	});
	if (!result.ok) throw ApiError.from(result);
	return ok(true);
};
