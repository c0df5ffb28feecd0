// SQL for groups (docs/API.md) and group conversations. Membership changes and
// group messages run inside the group conversation's Durable Object; each
// statement touches all members at once, so the number of D1 round trips
// does not grow with the group.
import { type SQL, sql } from "drizzle-orm";
import { batchSql, type Database } from "./client";
import { insertDedupe, type Transaction } from "./dedupe";
import { messageAndCallback, type NewMessage, newest, newestMessageId } from "./messages";

export type GroupInfo = {
	group_id: number;
	name: string;
	description: string;
	avatar: string;
	owner_id: number;
	count: number;
	created_at: number;
	destroyed: boolean;
};

type GroupRow = Omit<GroupInfo, "destroyed"> & { destroyed: number };

const ids = (list: number[]) => sql`(SELECT value FROM json_each(${JSON.stringify(list)}))`;
const groupKeyOf = (groupId: number) => `g:${groupId}`;
/** The group conversation's newest message (its id, or its ordinal; 0 before the first): where a member joins or leaves. */
const newestIn = (appId: number, groupId: number, column: "last_msg_id" | "last_seq") =>
	sql`coalesce(${newest(appId, groupKeyOf(groupId), column)}, 0)`;

export async function findGroup(db: Database, appId: number, groupId: number): Promise<GroupInfo | null> {
	const [row] = await db.all<GroupRow>(sql`
		SELECT id AS group_id, name, description, avatar, owner_id, created_at, destroyed,
			(SELECT count(*) FROM group_members WHERE app_id = ${appId} AND group_id = ${groupId}) AS count
		FROM groups WHERE id = ${groupId} AND app_id = ${appId}`);
	return row ? { ...row, destroyed: row.destroyed === 1 } : null;
}

/** Allocates the group's id (shared with users), then writes the group and its first members in one batch. */
export async function createGroup(
	db: Database,
	g: { appId: number; name: string; description: string; avatar: string; ownerId: number; members: number[]; nowMs: number },
): Promise<number> {
	const [account] = await db.all<{ id: number }>(sql`INSERT INTO accounts (app_id, kind) VALUES (${g.appId}, 'group') RETURNING id`);
	if (!account) throw new Error("account insert returned no id");
	await batchSql(db, [
		sql`INSERT INTO groups (id, app_id, name, description, avatar, owner_id, created_at)
			VALUES (${account.id}, ${g.appId}, ${g.name}, ${g.description}, ${g.avatar}, ${g.ownerId}, ${g.nowMs})`,
		...joinStatements(g.appId, account.id, g.members, g.nowMs),
	]);
	return account.id;
}

/**
 * New members join at the newest message: their read position and clear point
 * start there (history from the join), the group enters their list at once
 * (at the join's time). Current members are left as they are; a removed member
 * rejoins afresh.
 */
function joinStatements(appId: number, groupId: number, userIds: number[], nowMs: number) {
	const key = groupKeyOf(groupId);
	const [at, seq] = [newestIn(appId, groupId, "last_msg_id"), newestIn(appId, groupId, "last_seq")];
	const live = sql`NOT EXISTS (SELECT 1 FROM groups WHERE id = ${groupId} AND app_id = ${appId} AND destroyed = 1)`;
	return [
		sql`INSERT INTO conversation_members (app_id, user_id, conversation_key, type, peer_id, read_position, read_seq, clear_point, clear_seq,
				last_msg_id, last_timestamp, deleted, left_at, left_seq)
			SELECT ${appId}, value, ${key}, 2, ${groupId}, ${at}, ${seq}, ${at}, ${seq}, ${at}, ${nowMs}, 0, NULL, NULL
			FROM json_each(${JSON.stringify(userIds)})
			WHERE value NOT IN (SELECT user_id FROM group_members WHERE app_id = ${appId} AND group_id = ${groupId}) AND ${live}
			ON CONFLICT DO UPDATE SET read_position = excluded.read_position, read_seq = excluded.read_seq, clear_point = excluded.clear_point,
				clear_seq = excluded.clear_seq, last_msg_id = excluded.last_msg_id, last_timestamp = excluded.last_timestamp, deleted = 0,
				left_at = NULL, left_seq = NULL`,
		sql`INSERT INTO group_members (app_id, group_id, user_id, joined_at)
			SELECT ${appId}, ${groupId}, value, ${nowMs} FROM json_each(${JSON.stringify(userIds)}) WHERE ${live}
			ON CONFLICT DO NOTHING RETURNING user_id`,
	];
}

/**
 * Ends the membership of the current members among `who` (SQL on
 * conversation_members): bounded at the newest message, which their list
 * entry keeps from now on (a later message is not theirs to see).
 */
const leaveStatement = (appId: number, groupId: number, who: SQL) => {
	const key = groupKeyOf(groupId);
	const newerThanMine = sql`coalesce(${newest(appId, key, "last_msg_id")}, 0) > last_msg_id`;
	return sql`UPDATE conversation_members SET left_at = ${newestIn(appId, groupId, "last_msg_id")}, left_seq = ${newestIn(appId, groupId, "last_seq")},
			last_timestamp = CASE WHEN ${newerThanMine} THEN ${newest(appId, key, "last_timestamp")} ELSE last_timestamp END,
			last_msg_id = CASE WHEN ${newerThanMine} THEN ${newest(appId, key, "last_msg_id")} ELSE last_msg_id END
		WHERE app_id = ${appId} AND conversation_key = ${key} AND left_at IS NULL ${who}`;
};

/** What a membership change did, read from the change itself (so concurrent changes cannot answer for each other). */
export type MembershipChange = { live: boolean; changed: number[] };

const isLive = (appId: number, groupId: number) =>
	sql`SELECT EXISTS (SELECT 1 FROM groups WHERE id = ${groupId} AND app_id = ${appId} AND destroyed = 0) AS live`;

/** Who of `userIds` joined: those who were not members already (none if the group is destroyed). */
export async function joinGroup(db: Database, appId: number, groupId: number, userIds: number[], nowMs: number): Promise<MembershipChange> {
	const [live, , joined] = await batchSql(db, [isLive(appId, groupId), ...joinStatements(appId, groupId, userIds, nowMs)]);
	return changeOf(live, joined);
}

/**
 * Who of `userIds` was removed: those who were members. Removed members keep
 * their side, bounded at the newest message: they see history up to here, and nothing after.
 */
export async function removeFromGroup(db: Database, appId: number, groupId: number, userIds: number[]): Promise<MembershipChange> {
	const [live, , removed] = await batchSql(db, [
		isLive(appId, groupId),
		leaveStatement(appId, groupId, sql`AND user_id IN ${ids(userIds)}`),
		sql`DELETE FROM group_members WHERE app_id = ${appId} AND group_id = ${groupId} AND user_id IN ${ids(userIds)} RETURNING user_id`,
	]);
	return changeOf(live, removed);
}

const changeOf = (live: D1Result<Record<string, unknown>> | undefined, changed: D1Result<Record<string, unknown>> | undefined) => ({
	live: live?.results[0]?.live === 1,
	changed: (changed?.results ?? []).map((r) => r.user_id as number),
});

/** A destroyed group takes no new messages; every member becomes a former member who keeps the history. */
export async function destroyGroup(db: Database, appId: number, groupId: number): Promise<void> {
	await batchSql(db, [
		sql`UPDATE groups SET destroyed = 1 WHERE id = ${groupId} AND app_id = ${appId}`,
		leaveStatement(appId, groupId, sql``),
		sql`DELETE FROM group_members WHERE app_id = ${appId} AND group_id = ${groupId}`,
	]);
}

/**
 * One page of members in user-id order, after `afterUserId` (with their nick
 * names), with whether the
 * group is live and whether `viewerId` is a member: ONE statement (the context
 * row is left-joined to the page, so it comes back even when the page is empty).
 */
export async function memberPage(db: Database, appId: number, groupId: number, viewerId: number, afterUserId: number, limit: number) {
	const rows = await db.all<{
		live: number;
		viewer_is_member: number;
		user_id: number | null;
		joined_at: number | null;
		nick_name: string | null;
	}>(sql`
		SELECT
			EXISTS (SELECT 1 FROM groups WHERE id = ${groupId} AND app_id = ${appId} AND destroyed = 0) AS live,
			EXISTS (SELECT 1 FROM group_members WHERE app_id = ${appId} AND group_id = ${groupId} AND user_id = ${viewerId}) AS viewer_is_member,
			page.user_id, page.joined_at, page.nick_name
		FROM (SELECT 1) AS context
		LEFT JOIN (
			SELECT group_members.user_id, group_members.joined_at, users.nick_name FROM group_members
			JOIN users ON users.id = group_members.user_id
			WHERE group_members.app_id = ${appId} AND group_members.group_id = ${groupId} AND group_members.user_id > ${afterUserId}
			ORDER BY group_members.user_id LIMIT ${limit}
		) AS page
		ORDER BY page.user_id`);
	return {
		live: rows[0]?.live === 1,
		viewerIsMember: rows[0]?.viewer_is_member === 1,
		members: rows.flatMap((r) =>
			r.user_id === null ? [] : [{ user_id: r.user_id, joined_at: r.joined_at ?? 0, nick_name: r.nick_name ?? "" }],
		),
	};
}

export async function groupsOf(db: Database, appId: number, userId: number): Promise<number[]> {
	const rows = await db.all<{ group_id: number }>(sql`
		SELECT group_id FROM group_members WHERE app_id = ${appId} AND user_id = ${userId} ORDER BY group_id`);
	return rows.map((r) => r.group_id);
}

/**
 * The statements that append a group message: the message, its callback, the
 * transaction's dedupe row, and the sender's side (read up to the message, if
 * a member). Nothing per other member — their unread counts and list entries
 * follow from the conversation's row — so the rows written do not grow with
 * the group.
 */
export function groupMessageStatements(message: NewMessage, transaction: Transaction | null): SQL[] {
	const { appId, conversationKey, timestamp: nowMs, fromUid } = message;
	return [
		...messageAndCallback(message, nowMs),
		...(transaction ? [insertDedupe(appId, transaction, newestMessageId(appId, conversationKey), nowMs)] : []),
		sql`UPDATE conversation_members SET read_position = ${newest(appId, conversationKey, "last_msg_id")},
				read_seq = ${newest(appId, conversationKey, "last_seq")}, read_device_sn = ${message.fromDeviceSn}
			WHERE app_id = ${appId} AND conversation_key = ${conversationKey} AND user_id = ${fromUid} AND left_at IS NULL`,
	];
}

/** What group sends must know first: does the group take messages, and which senders are members. */
/** Whether the group exists, was destroyed, and which of the senders asked about are members. */
export type GroupSendCheck = { exists: boolean; destroyed: boolean; members: Set<number> };

export async function groupSendCheck(db: Database, appId: number, groupId: number, senderIds: number[]): Promise<GroupSendCheck> {
	const rows = await db.all<{ destroyed: number; member: number | null }>(sql`
		SELECT groups.destroyed AS destroyed, group_members.user_id AS member
		FROM groups LEFT JOIN group_members ON group_members.app_id = ${appId} AND group_members.group_id = groups.id
			AND group_members.user_id IN (SELECT value FROM json_each(${JSON.stringify(senderIds)}))
		WHERE groups.id = ${groupId} AND groups.app_id = ${appId}`);
	const [first] = rows;
	return {
		exists: first !== undefined,
		destroyed: first?.destroyed === 1,
		members: new Set(rows.flatMap((r) => (r.member === null ? [] : [r.member]))),
	};
}

/** For a send into `groupIds`: which exist, which are destroyed, and whether the sender is a member of each. */
export async function groupsForSend(db: Database, appId: number, groupIds: number[], senderId: number) {
	const rows = await db.all<{ id: number; destroyed: number; member: number }>(sql`
		SELECT groups.id AS id, groups.destroyed AS destroyed,
			EXISTS (SELECT 1 FROM group_members WHERE app_id = ${appId} AND group_id = groups.id AND user_id = ${senderId}) AS member
		FROM json_each(${JSON.stringify(groupIds)}) AS wanted CROSS JOIN groups ON groups.id = wanted.value
		WHERE groups.app_id = ${appId}`);
	return new Map(rows.map((r) => [r.id, { destroyed: r.destroyed === 1, member: r.member === 1 }]));
}
