// SQL for a member's state in a conversation (docs/API.md): read
// positions, clear points, recall and edits, and the unread list. The write
// functions run only inside the conversation's Durable Object; each is ONE D1
// round trip (a single statement or one atomic batch).
import { type SQL, sql } from "drizzle-orm";
import { MAX_CONTENT } from "../limits";
import { MEDIA_CONTENT_TYPES } from "../protocol";
import { type Actor, batchOwing, emptyBody, type Owed, operationColumns, oweCallback } from "./callbacks";
import { batchSql, type Database } from "./client";
import type { Transaction } from "./dedupe";

/**
 * Moves the user's read position forward to `msgId` (never back), records the
 * device, and recounts unread. `msgId` 0 means the newest message the user can
 * see (a removed member: up to their removal). Null if the user has no side in
 * the conversation, or `msgId` is not one of its messages.
 */
/** `to`: the other side of the conversation from the reader's view (peer user or group). */
export type Ack = {
	appId: number;
	conversationKey: string;
	userId: number;
	msgId: number;
	deviceSn: number;
	to: number;
	nowMs: number;
	/** READ_ACK through send: a removed member may not (docs/API.md); /message/ack: up to their removal (docs/API.md). */
	currentMemberOnly?: boolean;
};

export async function ackConversation(
	db: Database,
	a: Ack,
	also: SQL[] = [],
): Promise<{ readPosition: number | null; moved: boolean; side: { leftAt: number | null } | null; owed: Owed; also: Results }> {
	const me = sql`app_id = ${a.appId} AND user_id = ${a.userId} AND conversation_key = ${a.conversationKey}`;
	// A removed member may mark read only what they could see (up to their removal), and through READ_ACK nothing.
	const visible = (msgId: SQL) => (a.currentMemberOnly ? sql`left_at IS NULL` : sql`(left_at IS NULL OR ${msgId} <= left_at)`);
	const newestVisible = (leftAt: SQL) =>
		sql`(SELECT max(id) FROM messages WHERE app_id = ${a.appId} AND conversation_key = ${a.conversationKey}
			AND id <= coalesce(${leftAt}, ${Number.MAX_SAFE_INTEGER}))`;
	// The message read up to, and its ordinal: `msgId`, or the newest the user can see (a removed member: up to the removal).
	const conversation = (column: "last_msg_id" | "last_seq") =>
		sql`(SELECT ${sql.raw(column)} FROM conversations WHERE app_id = ${a.appId} AND conversation_key = ${a.conversationKey})`;
	const target = a.msgId > 0 ? sql`${a.msgId}` : sql`coalesce(conversation_members.left_at, ${conversation("last_msg_id")}, 0)`;
	const targetSeq =
		a.msgId > 0
			? sql`(SELECT seq FROM messages WHERE id = ${a.msgId} AND app_id = ${a.appId})`
			: sql`CASE WHEN conversation_members.left_at IS NULL THEN coalesce(${conversation("last_seq")}, 0) ELSE conversation_members.left_seq END`;
	const newPosition = sql`max(conversation_members.read_position, ${target})`;
	// READ is owed (before the update, which it reads) only if the read position will move.
	const readTarget = a.msgId > 0 ? sql`${a.msgId}` : newestVisible(sql`(SELECT left_at FROM conversation_members WHERE ${me})`);
	const owed = oweCallback(
		a.appId,
		a.conversationKey,
		"READ",
		a.nowMs,
		sql`app_id = ${a.appId} AND conversation_key = ${a.conversationKey} AND id = ${readTarget}
			AND EXISTS (SELECT 1 FROM conversation_members WHERE ${me} AND read_position < messages.id AND ${visible(sql`messages.id`)})`,
		operationColumns({ uid: a.userId, deviceSn: a.deviceSn, to: a.to }, a.nowMs, emptyBody),
	);
	const { results, owed: now } = await batchOwing(
		db,
		a.appId,
		[
			owed,
			sql`SELECT read_position FROM conversation_members WHERE ${me}`,
			sql`
		UPDATE conversation_members SET
			read_seq = CASE WHEN ${target} > read_position THEN ${targetSeq} ELSE read_seq END,
			read_device_sn = CASE WHEN ${target} > read_position THEN ${a.deviceSn} ELSE read_device_sn END,
			read_position = ${newPosition},
			delivered_position = max(delivered_position, ${target})
		WHERE ${me}
			${a.msgId > 0 ? sql`AND ${visible(sql`${a.msgId}`)} AND EXISTS (SELECT 1 FROM messages WHERE app_id = ${a.appId} AND conversation_key = ${a.conversationKey} AND id = ${a.msgId})` : sql``}
		RETURNING read_position`,
			sql`SELECT left_at FROM conversation_members WHERE ${me}`,
			...also,
		],
		[0],
	);
	const before = results[1]?.results[0] as { read_position: number } | undefined;
	const row = results[2]?.results[0] as { read_position: number } | undefined;
	const side = results[3]?.results[0] as { left_at: number | null } | undefined;
	const readPosition = row?.read_position ?? null;
	return {
		readPosition,
		moved: readPosition !== null && readPosition > (before?.read_position ?? 0),
		side: side ? { leftAt: side.left_at } : null,
		owed: now,
		also: results.slice(4),
	};
}

/** The user's read position in the conversation, as SQL (to read it after an update in the same batch). */
export const readPositionSql = (appId: number, userId: number, conversationKey: string) =>
	sql`(SELECT read_position FROM conversation_members WHERE app_id = ${appId} AND user_id = ${userId} AND conversation_key = ${conversationKey})`;

/** The results of statements a caller added to a write's batch (e.g. who is online), in order. */
export type Results = D1Result<Record<string, unknown>>[];

/**
 * Removes the conversation from the user's list: clear point at the newest
 * message (so nothing is unread, and history starts after it). False if the
 * user has no such conversation, or it is deleted (and no message came since).
 */
export async function deleteConversationFor(
	db: Database,
	d: { appId: number; conversationKey: string; userId: number },
	also: SQL[] = [],
): Promise<{ deleted: boolean; also: Results }> {
	const [deleted, ...rest] = await batchSql(db, [
		sql`
		UPDATE conversation_members SET
			deleted = 1,
			clear_point = coalesce((SELECT last_msg_id FROM conversations WHERE app_id = ${d.appId} AND conversation_key = ${d.conversationKey}), clear_point),
			clear_seq = coalesce((SELECT last_seq FROM conversations WHERE app_id = ${d.appId} AND conversation_key = ${d.conversationKey}), clear_seq)
		WHERE app_id = ${d.appId} AND user_id = ${d.userId} AND conversation_key = ${d.conversationKey} AND NOT (${isDeleted})
		RETURNING 1`,
		...also,
	]);
	return { deleted: (deleted?.results.length ?? 0) > 0, also: rest };
}

export type MessageFacts = {
	conversationKey: string;
	contentType: number;
	fromUid: number;
	timestamp: number;
	isSystem: boolean;
	recalled: boolean;
	recalledBy: string | null;
	contentLength: number;
};

type FactsRow = {
	conversation_key: string;
	content_type: number;
	from_uid: number;
	timestamp: number;
	is_system: number;
	recalled: number;
	recalled_by: string | null;
	content_length: number;
};

const factsOf = (appId: number, msgId: number) =>
	sql`SELECT conversation_key, content_type, from_uid, timestamp, is_system, recalled, recalled_by, length(content) AS content_length
		FROM messages WHERE id = ${msgId} AND app_id = ${appId}`;

const toFacts = (r: FactsRow | undefined): MessageFacts | null =>
	r
		? {
				conversationKey: r.conversation_key,
				contentType: r.content_type,
				fromUid: r.from_uid,
				timestamp: r.timestamp,
				isSystem: r.is_system === 1,
				recalled: r.recalled === 1,
				recalledBy: r.recalled_by,
				contentLength: r.content_length,
			}
		: null;

/** A message's facts by id (the admin's recall names a message, not a conversation). */
export async function findMessageFacts(db: Database, appId: number, msgId: number): Promise<MessageFacts | null> {
	return toFacts((await db.all<FactsRow>(factsOf(appId, msgId)))[0]);
}

/**
 * Who may recall or edit, as SQL over the message row: an admin always, else
 * the sender (and, for recall, only a non-system message inside the window).
 * The same rule decides the error message in JS (see conversation/rules.ts).
 */
export type Permission = { admin: boolean; userId: number; notBefore: number | null };

const permitted = (p: Permission) =>
	p.admin
		? sql`1`
		: p.notBefore === null
			? sql`from_uid = ${p.userId}`
			: sql`from_uid = ${p.userId} AND is_system = 0 AND timestamp >= ${p.notBefore}`;

/**
 * Recalls a message in one batch: mark it (tagged with this request), owe its
 * callback, and read back the facts to tell what happened. Unread counts
 * leave out recalled messages as they are counted, so no member's row is
 * written.
 */
export async function recallMessage(
	db: Database,
	r: {
		appId: number;
		conversationKey: string;
		msgId: number;
		permission: Permission;
		requestId: string;
		actor: Actor;
		/** A group conversation: only a current member (or an admin) may recall in it. */
		group: number | null;
		nowMs: number;
	},
	also: SQL[] = [],
): Promise<{ facts: MessageFacts | null; isMember: boolean; owed: Owed; also: Results }> {
	const { appId, conversationKey, msgId } = r;
	const member = groupMember(appId, r.group, r.permission.userId);
	const memberOnly = r.group === null || r.permission.admin ? sql`` : sql`AND ${member}`;
	const { results, owed } = await batchOwing(
		db,
		appId,
		[
			sql`
			UPDATE messages SET recalled = 1, recalled_by = ${r.requestId}
			WHERE id = ${msgId} AND app_id = ${appId} AND conversation_key = ${conversationKey} AND recalled = 0 AND ${permitted(r.permission)} ${memberOnly}`,
			oweCallback(
				appId,
				conversationKey,
				"RECALL",
				r.nowMs,
				sql`id = ${msgId} AND app_id = ${appId} AND conversation_key = ${conversationKey} AND recalled_by = ${r.requestId}`,
				operationColumns(r.actor, r.nowMs, emptyBody),
			),
			factsOf(appId, msgId),
			sql`SELECT ${r.group === null ? sql`1` : member} AS member`,
			...also,
		],
		[1],
	);
	const found = toFacts(results[2]?.results[0] as FactsRow | undefined);
	const isMember = (results[3]?.results[0] as { member: number } | undefined)?.member === 1;
	return { facts: found && found.conversationKey === conversationKey ? found : null, isMember, owed, also: results.slice(4) };
}

/** Whether `userId` is a current member of `groupId` (SQL; always false for a null group). */
const groupMember = (appId: number, groupId: number | null, userId: number) =>
	sql`EXISTS (SELECT 1 FROM group_members WHERE group_members.app_id = ${appId} AND group_members.group_id = ${groupId}
		AND group_members.user_id = ${userId})`;

export type Edit = {
	appId: number;
	conversationKey: string;
	msgId: number;
	permission: Permission;
	mode: "append" | "replace";
	content: string;
	ext: string;
	config: string;
	attachment: string;
	transaction: Transaction | null;
	actor: Actor;
	/** The group, for a group conversation: it must not be destroyed, and the editor (unless an admin) must be a member. */
	group: number | null;
	nowMs: number;
	/**
	 * REPLACE: false when `attachment` is neither "" nor what a file message
	 * needs (an http(s) url); the edit then applies only to a message that is
	 * not a file (IMAGE, AUDIO, VIDEO, FILE).
	 */
	attachmentFitsFiles?: boolean;
};

/** A group conversation's state as an edit saw it (null: not a group). */
export type GroupState = { destroyed: boolean; member: boolean } | null;

/**
 * APPEND or REPLACE on an existing message (docs/API.md), in one batch: the
 * transaction's dedupe row (only if the edit will apply), the edit, and the
 * facts read back. Appending never grows content past MAX_CONTENT characters.
 */
export async function editMessage(
	db: Database,
	e: Edit,
	also: SQL[] = [],
): Promise<{ facts: MessageFacts | null; changed: boolean; group: GroupState; owed: Owed; also: Results }> {
	const { appId, conversationKey, msgId } = e;
	const isMember = groupMember(appId, e.group, e.permission.userId);
	const groupAllows =
		e.group === null
			? sql``
			: sql`AND NOT EXISTS (SELECT 1 FROM groups WHERE groups.id = ${e.group} AND groups.app_id = ${appId} AND groups.destroyed = 1)
				${e.permission.admin ? sql`` : sql`AND ${isMember}`}`;
	const contentRules =
		e.mode === "append"
			? sql`AND length(content) + length(${e.content}) <= ${MAX_CONTENT}`
			: e.attachmentFitsFiles === false
				? sql`AND content_type NOT IN ${sql.raw(`(${MEDIA_CONTENT_TYPES.join(", ")})`)}`
				: sql``;
	const applies = sql`id = ${msgId} AND app_id = ${appId} AND conversation_key = ${conversationKey} AND recalled = 0 AND ${permitted(e.permission)}
		${contentRules} ${groupAllows}`;
	const keep = (column: string, value: string) => sql`CASE WHEN ${value} = '' THEN ${sql.raw(column)} ELSE ${value} END`;
	const edit =
		e.mode === "append"
			? sql`UPDATE messages SET content = content || ${e.content} WHERE ${applies}`
			: sql`
				UPDATE messages SET content = ${keep("content", e.content)}, ext = ${keep("ext", e.ext)},
					config = ${keep("config", e.config)}, attachment = ${keep("attachment", e.attachment)}
				WHERE ${applies}`;
	const t = e.transaction;
	// The dedupe row goes first, on the same condition as the edit: both see the row before the edit.
	const dedupe = t
		? [
				sql`
					INSERT INTO send_dedupe (app_id, sender_id, transaction_id, target_id, msg_id, body_hash, created_at)
					SELECT ${appId}, ${t.senderId}, ${t.transactionId}, ${t.targetId}, ${msgId}, ${t.bodyHash}, ${e.nowMs}
					FROM messages WHERE ${applies}`,
			]
		: [];
	// The callback too: APPEND carries the chunk (an empty chunk changes nothing and is not called back),
	// REPLACE the message as it will be.
	const callback = oweCallback(
		appId,
		conversationKey,
		e.mode === "append" ? "APPEND" : "REPLACE",
		e.nowMs,
		e.mode === "append" ? sql`${applies} AND ${e.content} != ''` : applies,
		operationColumns(
			e.actor,
			e.nowMs,
			e.mode === "append"
				? { content: sql`${e.content}`, ext: sql`ext`, config: sql`config`, attachment: sql`attachment` }
				: {
						content: keep("content", e.content),
						ext: keep("ext", e.ext),
						config: keep("config", e.config),
						attachment: keep("attachment", e.attachment),
					},
		),
	);
	const groupState =
		e.group === null ? [] : [sql`SELECT destroyed, ${isMember} AS member FROM groups WHERE id = ${e.group} AND app_id = ${appId}`];
	const { results, owed } = await batchOwing(
		db,
		appId,
		[...dedupe, callback, edit, factsOf(appId, msgId), ...groupState, ...also],
		[dedupe.length],
	);
	const edited = results[dedupe.length + 1];
	const found = toFacts(results[dedupe.length + 2]?.results[0] as FactsRow | undefined);
	const groupRow = results[dedupe.length + 3]?.results[0] as { destroyed: number; member: number } | undefined;
	return {
		facts: found && found.conversationKey === conversationKey ? found : null,
		changed: (edited?.meta.changes ?? 0) > 0,
		group: e.group === null ? null : { destroyed: groupRow?.destroyed === 1, member: groupRow?.member === 1 },
		owed,
		also: results.slice(dedupe.length + 3 + groupState.length),
	};
}

export type UnreadEntry = {
	peerId: number;
	type: number;
	unreadCount: number;
	lastMsgId: number;
	lastTimestamp: number;
	conversationKey: string;
};

/**
 * The user's conversation list, most recent activity first, deleted ones left
 * out, from the position `after` (exclusive). Each entry is derived from the
 * user's side and the conversation's row (docs/DESIGN.md, "Unread counts"):
 * - last message: the conversation's newest, or for a removed member the one
 *   at their removal; before any message since a join, the join's time;
 * - unread: the ordinals between the read position (or clear point) and that
 *   last message, less the recalled messages between them — found on the
 *   partial index of recalled messages, so a conversation with 10,000 unread
 *   reads no more rows than one with 1;
 * - listed unless deleted with no newer message since.
 * One statement, answering ONE row: the page as a JSON array of [peer_id,
 * type, unread, last_msg_id, last_timestamp, conversation_key] built by
 * SQLite. It reads the user's sides and their conversations' rows, and sorts
 * them: rows read grow with the conversations listed, not with their messages.
 */
export async function unreadList(
	db: Database,
	appId: number,
	userId: number,
	after: { lastMsgId: number; conversationKey: string } | null,
	limit: number,
): Promise<UnreadEntry[]> {
	const [page] = await db.all<{ entries: string }>(sql`
		SELECT json_group_array(json_array(peer_id, type, unread, last_msg_id, last_timestamp, conversation_key)) AS entries
		FROM (
			SELECT peer_id, type, conversation_key, last_msg_id, last_timestamp,
				max(0, upper_seq - lower_seq - (
					SELECT count(*) FROM messages INDEXED BY messages_recalled
					WHERE messages.app_id = ${appId} AND messages.conversation_key = side.conversation_key AND recalled = 1
						AND messages.id > side.lower_id AND messages.id <= side.last_msg_id
				)) AS unread
			FROM (
				SELECT m.peer_id, m.type, m.conversation_key, m.deleted, m.clear_point,
					${effective("last_msg_id")} AS last_msg_id,
					${effective("last_timestamp")} AS last_timestamp,
					CASE WHEN m.left_at IS NULL THEN coalesce(c.last_seq, 0) ELSE m.left_seq END AS upper_seq,
					max(m.read_seq, m.clear_seq) AS lower_seq,
					max(m.read_position, m.clear_point) AS lower_id
				FROM conversation_members AS m
				LEFT JOIN conversations AS c ON c.app_id = m.app_id AND c.conversation_key = m.conversation_key
				WHERE m.app_id = ${appId} AND m.user_id = ${userId}
			) AS side
			WHERE (deleted = 0 OR last_msg_id > clear_point)
				${after ? sql`AND (last_msg_id < ${after.lastMsgId} OR (last_msg_id = ${after.lastMsgId} AND conversation_key < ${after.conversationKey}))` : sql``}
			ORDER BY last_msg_id DESC, conversation_key DESC
			LIMIT ${limit})`);
	const entries = JSON.parse(page?.entries ?? "[]") as [number, number, number, number, number, string][];
	// An aggregate's order is SQLite's choice: sorted here.
	entries.sort((a, b) => b[3] - a[3] || (a[5] < b[5] ? 1 : a[5] > b[5] ? -1 : 0));
	return entries.map(([peerId, type, unreadCount, lastMsgId, lastTimestamp, conversationKey]) => ({
		peerId,
		type,
		unreadCount,
		lastMsgId,
		lastTimestamp,
		conversationKey,
	}));
}

/**
 * A side's last message as its list shows it: the conversation's newest while
 * it is newer than the side's own marker (a current member), else the marker
 * (a removed member's last message, or a join with no message since).
 */
const effective = (column: "last_msg_id" | "last_timestamp") =>
	sql.raw(`CASE WHEN m.left_at IS NULL AND coalesce(c.last_msg_id, 0) > m.last_msg_id THEN c.${column} ELSE m.${column} END`);

/**
 * The side is deleted: deleted from the list with no message since that it
 * can see (a removed member sees none after the removal). SQL on conversation_members.
 */
const isDeleted = sql`deleted = 1 AND (CASE WHEN left_at IS NULL THEN coalesce((SELECT last_msg_id FROM conversations
	WHERE conversations.app_id = conversation_members.app_id AND conversations.conversation_key = conversation_members.conversation_key), 0)
	ELSE last_msg_id END) <= clear_point`;
