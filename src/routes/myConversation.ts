import type { z } from "zod";
import { authenticate, requireUser } from "../auth/identity";
import { conversationObject } from "../conversation/key";
import { conversationWith } from "../conversation/peer";
import { database } from "../db/queries";
import { type ApiRequest, queryOf } from "../http/request";
import { parse } from "../http/validate";

/**
 * The shared start of the endpoints that act on the caller's own side of a
 * conversation named by `conversation_id` in the query (ack, delete): who
 * calls, the parsed query, the conversation's key and its object.
 */
export async function myConversation<S extends z.ZodType<{ conversation_id: number }>>(request: ApiRequest, env: Env, query: S) {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const me = requireUser(caller);
	const input: z.output<S> = parse(query, queryOf(request), "query");
	const { key } = await conversationWith(db, app.id, me.userId, input.conversation_id, "conversation_id");
	return { app, me, input, conversationKey: key, conversation: conversationObject(env, app.id, key) };
}
