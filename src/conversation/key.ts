// How a conversation is named: in D1 rows (conversation_key) and as the name of
import { type Failure, failure } from "./results";
// its Durable Object. Both are scoped by app.

/** A one-to-one conversation: the same key from either side. */
export function pairKey(a: number, b: number): string {
	return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
}

export function groupKey(groupId: number): string {
	return `g:${groupId}`;
}

/** The group a conversation key names (null: a one-to-one conversation). */
export function groupOf(conversationKey: string): number | null {
	return conversationKey.startsWith("g:") ? Number(conversationKey.slice(2)) : null;
}

/** The Durable Object that is the single writer of this conversation. */
export function conversationObject(env: Env, appId: number, conversationKey: string) {
	return env.CONVERSATION.getByName(`${appId}/${conversationKey}`);
}

type ConversationStub = ReturnType<typeof conversationObject>;

/**
 * Calls the conversation's object: the one way every caller does (SPEC §7).
 * A call that throws (the object unreachable, reset, or over its limits) is a
 * Failure 503 — retry — logged with the request id and where, never a 500.
 */
export async function callConversation<T>(
	env: Env,
	appId: number,
	conversationKey: string,
	where: { requestId: string; at: string },
	call: (conversation: ConversationStub) => Promise<T>,
): Promise<T | Failure> {
	try {
		return await call(conversationObject(env, appId, conversationKey));
	} catch (error) {
		console.error(JSON.stringify({ ...where, dependency: "Durable Object", error: error instanceof Error ? error.name : "unknown" }));
		return failure(503, "The conversation is unavailable; retry the request.");
	}
}
