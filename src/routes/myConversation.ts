import { requireUser } from "../auth/identity";
import { callConversation } from "../conversation/key";
import { conversationWith } from "../conversation/peer";
import type { Context } from "./contract";

/**
 * The shared start of the endpoints that act on the caller's own side of a
 * conversation named by `conversation_id` (ack, delete): the current user,
 * the conversation's key, and a way to call its object.
 */
export async function myConversation({ env, db, app, caller, request, session }: Context<"token">, conversationId: number, at: string) {
	const me = requireUser(caller);
	const { key } = await conversationWith(db, app.id, me.userId, conversationId, "conversation_id");
	const call = <T>(write: (conversation: Parameters<Parameters<typeof callConversation>[4]>[0]) => Promise<T>) =>
		callConversation(env, app.id, key, { requestId: request.requestId, at, session }, write);
	return { me, conversationKey: key, call };
}
