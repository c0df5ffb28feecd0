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

/** Where a request's writes report the D1 bookmark they committed at (an AppSession, src/db/sessions.ts). */
export type BookmarkSink = { saw(bookmark: string | null | undefined): void };

/**
 * Calls the conversation's object: the one way every caller does (docs/API.md).
 * A call that throws (the object unreachable, reset, or over its limits) is a
 * Failure 503 — retry — logged with the request id and where, never a 500.
 * The bookmark a write answers with goes to `where.session`, not to the caller.
 */
export async function callConversation<T>(
	env: Env,
	appId: number,
	conversationKey: string,
	where: { requestId: string; at: string; session?: BookmarkSink },
	call: (conversation: ConversationStub) => Promise<T>,
): Promise<T | Failure> {
	try {
		const answer = await call(conversationObject(env, appId, conversationKey));
		if (typeof answer !== "object" || answer === null || !("bookmark" in answer)) return answer;
		const { bookmark, ...rest } = answer as T & { bookmark?: string | null };
		where.session?.saw(bookmark);
		return rest as T;
	} catch (error) {
		console.error(
			JSON.stringify({
				requestId: where.requestId,
				at: where.at,
				dependency: "Durable Object",
				error: error instanceof Error ? error.name : "unknown",
			}),
		);
		return failure(503, "The conversation is unavailable; retry the request.");
	}
}
