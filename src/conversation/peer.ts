// Resolving the conversation a caller names by the other side (docs/API.md): a
// user (or 0, the system account) for one-to-one, or a group.

import type { Database } from "../db/client";
import { accountKind } from "../db/memo";
import type { Audience } from "../db/presence";
import { badRequest, notFound } from "../http/envelope";
import { groupKey, groupOf, pairKey } from "./key";

export type Named = { key: string; type: 1 | 2 };

export async function conversationWith(db: Database, appId: number, me: number, peer: number, field: string): Promise<Named> {
	if (peer === me) throw badRequest(`"${field}" must not name the caller.`);
	if (peer === 0) return { key: pairKey(me, 0), type: 1 };
	const kind = await accountKind(db, appId, peer);
	if (kind === "group") return { key: groupKey(peer), type: 2 };
	if (kind === "user") return { key: pairKey(me, peer), type: 1 };
	throw notFound(`No user or group ${peer} exists.`);
}

/** Who a conversation key names as its other side: both users of a pair, or the group. */
export function partiesOf(conversationKey: string): number[] {
	const [kind, a, b] = conversationKey.split(":");
	return kind === "p" ? [Number(a), Number(b)] : [Number(a)];
}

/** Who a conversation's events go to: the two users of a pair, or the group's members. */
export function audienceOf(conversationKey: string): Audience {
	const group = groupOf(conversationKey);
	return group === null ? { users: partiesOf(conversationKey) } : { groupId: group };
}
