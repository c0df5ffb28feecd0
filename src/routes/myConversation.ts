import { requireUser } from "../auth/identity";
import { conversationObject } from "../conversation/key";
import { conversationWith } from "../conversation/peer";
import type { Context } from "./contract";

/**
 * The shared start of the endpoints that act on the caller's own side of a
 * conversation named by `conversation_id` (ack, delete): the current user,
 * the conversation's key and its object.
 */
export async function myConversation({ env, db, app, caller }: Context<"token">, conversationId: number) {
	const me = requireUser(caller);
	const { key } = await conversationWith(db, app.id, me.userId, conversationId, "conversation_id");
	return { me, conversationKey: key, conversation: conversationObject(env, app.id, key) };
}
