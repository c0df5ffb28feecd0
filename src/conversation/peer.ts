// Resolving the conversation a caller names by its peer (SPEC §5: a
// conversation is named by the other side).
import { existingUsers } from "../db/memo";
import type { Database } from "../db/queries";
import { badRequest, notFound } from "../http/envelope";
import { pairKey } from "./key";

/** The key of `me`'s conversation with `peer` (a user, or 0 for the system account). */
export async function conversationWith(db: Database, appId: number, me: number, peer: number, field: string): Promise<string> {
	if (peer === me) throw badRequest(`Field "${field}" must not be the caller.`);
	if (peer !== 0 && !(await existingUsers(db, appId, [peer])).has(peer)) throw notFound(`User ${peer} does not exist.`);
	return pairKey(me, peer);
}

/** The two parties of a one-to-one conversation key. */
export function partiesOf(conversationKey: string): number[] {
	const [kind, a, b] = conversationKey.split(":");
	return kind === "p" ? [Number(a), Number(b)] : [];
}
