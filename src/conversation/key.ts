// How a conversation is named: in D1 rows (conversation_key) and as the name of
// its Durable Object. Both are scoped by app.

/** A one-to-one conversation: the same key from either side. */
export function pairKey(a: number, b: number): string {
	return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
}

export function groupKey(groupId: number): string {
	return `g:${groupId}`;
}

/** The Durable Object that is the single writer of this conversation. */
export function conversationObject(env: Env, appId: number, conversationKey: string) {
	return env.CONVERSATION.getByName(`${appId}/${conversationKey}`);
}
