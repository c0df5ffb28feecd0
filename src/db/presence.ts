// SQL for presence (docs/API.md "Real-time delivery"): who has an open realtime channel. Written only
// by each user's UserChannels object; read inside a conversation's write
// batch, so finding who to push to costs no round trip of its own.
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "./client";

/** Who a conversation's events go to: the users of a pair, or a group's current members. */
export type Audience = { users: number[] } | { groupId: number };

/**
 * The audience's users that are online now: one statement, placed in the
 * write's batch. For a group it walks the group's members and probes the
 * presence key of each — no row per member is read into the Worker, and no
 * call is made for an offline one.
 *
 * `about`: the event is about an existing message (an edit, a recall, a read
 * position). Then only those who can see that message in their history get
 * it (docs/API.md, "Real-time delivery"): a side in the conversation whose
 * clear point is below it (a member who joined later, or cleared past it,
 * has the clear point at or above it) and who was not removed before it.
 * `msgId` may be SQL read in the same batch (a read position just moved).
 */
export const onlineOf = (appId: number, audience: Audience, about?: { conversationKey: string; msgId: number | SQL }) => {
	const canSee = about
		? sql` AND EXISTS (SELECT 1 FROM conversation_members AS side
				WHERE side.app_id = ${appId} AND side.user_id = online_users.user_id AND side.conversation_key = ${about.conversationKey}
					AND side.clear_point < ${about.msgId} AND (side.left_at IS NULL OR side.left_at >= ${about.msgId}))`
		: sql``;
	return "groupId" in audience
		? sql`SELECT online_users.user_id AS user_id FROM group_members
			JOIN online_users ON online_users.app_id = group_members.app_id AND online_users.user_id = group_members.user_id
			WHERE group_members.app_id = ${appId} AND group_members.group_id = ${audience.groupId}${canSee}`
		: sql`SELECT user_id FROM online_users
			WHERE app_id = ${appId} AND user_id IN (SELECT value FROM json_each(${JSON.stringify(audience.users)}))${canSee}`;
};

/** The user ids of an `onlineOf` result. */
export const onlineUserIds = (result: D1Result<Record<string, unknown>> | undefined): number[] =>
	(result?.results ?? []).map((r) => r.user_id as number);

/** Records whether the user has an open channel now (the latest state wins: the caller writes one at a time). */
export async function setOnline(db: Database, appId: number, userId: number, online: boolean, nowMs: number): Promise<void> {
	await db.run(
		online
			? sql`INSERT INTO online_users (app_id, user_id, since) VALUES (${appId}, ${userId}, ${nowMs}) ON CONFLICT DO NOTHING`
			: sql`DELETE FROM online_users WHERE app_id = ${appId} AND user_id = ${userId}`,
	);
}

/** Whether the user has an open realtime channel now (one row lookup). */
export async function isOnline(db: Database, appId: number, userId: number): Promise<boolean> {
	const row = await db.get<{ found: number }>(sql`SELECT 1 AS found FROM online_users WHERE app_id = ${appId} AND user_id = ${userId}`);
	return row !== undefined && row !== null;
}
