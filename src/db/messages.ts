// SQL for messages: appending them (run only by the conversation's Durable
// Object) and reading a page of history.
import { type SQL, sql } from "drizzle-orm";
import { batchOwing, type Owed, oweNewMessage } from "./callbacks";
import type { Database } from "./client";
import { insertDedupe, type Transaction } from "./dedupe";
import { type Audience, onlineOf, onlineUserIds } from "./presence";
import type { messages } from "./schema";

/** A message as the service handles it (its ordinal is bookkeeping, read only in SQL). */
export type MessageRow = Omit<typeof messages.$inferSelect, "seq">;

export type NewMessage = {
	appId: number;
	conversationKey: string;
	type: 1 | 2;
	contentType: number;
	content: string;
	attachment: string;
	config: string;
	ext: string;
	fromUid: number;
	fromDeviceSn: number;
	toUid: number;
	timestamp: number;
	isSystem: boolean;
};

export type ConversationSide = { userId: number; peerId: number };

/** The id of the message just inserted: within a batch, statements run in order in one transaction. */
export const newestMessageId = (appId: number, conversationKey: string) =>
	sql`(SELECT max(id) FROM messages WHERE app_id = ${appId} AND conversation_key = ${conversationKey})`;

/** A column of the conversation's row (`conversations`): its newest message's id, ordinal or timestamp. */
export const newest = (appId: number, conversationKey: string, column: "last_msg_id" | "last_seq" | "last_timestamp") =>
	sql`(SELECT ${sql.raw(column)} FROM conversations WHERE app_id = ${appId} AND conversation_key = ${conversationKey})`;

/**
 * The message insert; its RETURNING id and timestamp are the statement's first
 * row. Its ordinal follows the conversation's newest, and its timestamp never
 * goes below that one's (timestamps do not decrease along msg_id), whatever
 * the clock of the object that took it.
 */
export const insertMessage = (m: NewMessage) =>
	sql`INSERT INTO messages (app_id, conversation_key, type, content_type, content, attachment, config, ext, from_uid, from_device_sn, to_uid, timestamp, recalled, is_system, seq)
		VALUES (${m.appId}, ${m.conversationKey}, ${m.type}, ${m.contentType}, ${m.content}, ${m.attachment}, ${m.config}, ${m.ext},
			${m.fromUid}, ${m.fromDeviceSn}, ${m.toUid},
			max(${m.timestamp}, coalesce(${newest(m.appId, m.conversationKey, "last_timestamp")}, 0)),
			0, ${m.isSystem ? 1 : 0}, coalesce(${newest(m.appId, m.conversationKey, "last_seq")}, 0) + 1) RETURNING id, timestamp`;

/** The conversation's row follows the message just inserted (the one row a message writes whatever the members). */
const recordNewest = sql`INSERT INTO conversations (app_id, conversation_key, last_msg_id, last_seq, last_timestamp)
		SELECT app_id, conversation_key, id, seq, timestamp FROM messages WHERE id = last_insert_rowid()
		ON CONFLICT DO UPDATE SET last_msg_id = excluded.last_msg_id, last_seq = excluded.last_seq, last_timestamp = excluded.last_timestamp`;

/** The first three statements of every message: the insert, the conversation's newest, and the callback it owes (docs/API.md). */
export const messageAndCallback = (m: NewMessage, nowMs: number) => [
	insertMessage(m),
	recordNewest,
	oweNewMessage(m.appId, m.conversationKey, m.type === 1 ? "CHAT" : "GROUPCHAT", newestMessageId(m.appId, m.conversationKey), nowMs),
];
/** Where the callback statement is among `messageAndCallback`'s. */
export const CALLBACK_STATEMENT = 2;

/**
 * The statements that append a one-to-one message: the message, its callback,
 * the transaction's dedupe row, the sender's side (read up to the message)
 * and the receiver's (created with the first message; else left as it is:
 * their unread count and list entry follow from the conversation's row).
 */
export function messageStatements(
	message: NewMessage,
	sender: ConversationSide | null,
	receivers: ConversationSide[],
	transaction: Transaction | null,
): SQL[] {
	const { appId, conversationKey, timestamp: nowMs } = message;
	return [
		...messageAndCallback(message, nowMs),
		...(transaction ? [insertDedupe(appId, transaction, newestMessageId(appId, conversationKey), nowMs)] : []),
		...(sender ? [senderSide(message, sender)] : []),
		...receivers.map((receiver) => receiverSide(message, receiver)),
	];
}

/** The sender has read what they sent: their read position moves to the message (their side is made with the first one). */
function senderSide(message: NewMessage, side: ConversationSide): SQL {
	const { appId, conversationKey, type } = message;
	const at = (column: "last_msg_id" | "last_seq" | "last_timestamp") => newest(appId, conversationKey, column);
	return sql`INSERT INTO conversation_members (app_id, user_id, conversation_key, type, peer_id, read_position, read_seq, read_device_sn, last_msg_id, last_timestamp)
		VALUES (${appId}, ${side.userId}, ${conversationKey}, ${type}, ${side.peerId}, ${at("last_msg_id")}, ${at("last_seq")}, ${message.fromDeviceSn},
			${at("last_msg_id")}, ${at("last_timestamp")})
		ON CONFLICT DO UPDATE SET read_position = excluded.read_position, read_seq = excluded.read_seq, read_device_sn = excluded.read_device_sn`;
}

/** The receiver's side, made with the first message; an existing side is not written. */
function receiverSide(message: NewMessage, side: ConversationSide): SQL {
	const { appId, conversationKey, type } = message;
	return sql`INSERT INTO conversation_members (app_id, user_id, conversation_key, type, peer_id, last_msg_id, last_timestamp)
		VALUES (${appId}, ${side.userId}, ${conversationKey}, ${type}, ${side.peerId},
			${newest(appId, conversationKey, "last_msg_id")}, ${newest(appId, conversationKey, "last_timestamp")})
		ON CONFLICT DO NOTHING`;
}

/**
 * Runs several messages' statements (each starting with `messageAndCallback`)
 * as ONE atomic D1 batch (group commit: the conversation's object sends what
 * queued up together), with `alongside` statements that ride in the same
 * batch and, last, who of `audience` is online (realtime, docs/API.md "Real-time delivery"). Returns
 * each message's id and timestamp, the callbacks now owed and the online
 * users; a duplicate transaction fails the whole batch.
 */
export async function appendMessages(
	db: Database,
	appId: number,
	perMessage: SQL[][],
	alongside: SQL[],
	audience: Audience,
): Promise<{ inserted: { id: number; timestamp: number }[]; owed: Owed; online: number[] }> {
	const starts: number[] = [];
	let at = 0;
	for (const statements of perMessage) {
		starts.push(at);
		at += statements.length;
	}
	const statements = [...perMessage.flat(), ...alongside, onlineOf(appId, audience)];
	const { results, owed } = await batchOwing(
		db,
		appId,
		statements,
		starts.map((start) => start + CALLBACK_STATEMENT),
	);
	const inserted = starts.map((start) => {
		const row = results[start]?.results[0] as { id?: number; timestamp?: number } | undefined;
		if (!row?.id) throw new Error("message insert returned no id");
		return { id: row.id, timestamp: row.timestamp ?? 0 };
	});
	return { inserted, owed, online: onlineUserIds(results[statements.length - 1]) };
}

/** A message as stored, read inside a write's batch (e.g. after an edit, for the realtime push). */
export const messageRowSql = (appId: number, msgId: number) =>
	sql`SELECT id, app_id, conversation_key, type, content_type, content, attachment, config, ext, from_uid, from_device_sn,
			to_uid, timestamp, recalled, recalled_by, is_system
		FROM messages WHERE id = ${msgId} AND app_id = ${appId}`;

/** The row `messageRowSql` read, if any. */
export function messageRowOf(result: D1Result<Record<string, unknown>> | undefined): MessageRow | null {
	const r = result?.results[0];
	return r ? toMessageRow(r) : null;
}

function toMessageRow(r: Record<string, unknown>): MessageRow {
	return {
		id: r.id as number,
		appId: r.app_id as number,
		conversationKey: r.conversation_key as string,
		type: r.type as number,
		contentType: r.content_type as number,
		content: r.content as string,
		attachment: r.attachment as string,
		config: r.config as string,
		ext: r.ext as string,
		fromUid: r.from_uid as number,
		fromDeviceSn: r.from_device_sn as number,
		toUid: r.to_uid as number,
		timestamp: r.timestamp as number,
		recalled: r.recalled === 1,
		recalledBy: r.recalled_by as string | null,
		isSystem: r.is_system === 1,
	};
}

/**
 * Every message with an id above `afterId` that `userId` can see, in id order
 * (a resume, docs/API.md "Real-time delivery"): in each conversation on their list, after its clear
 * point and, for a removed member, up to their removal. At most `limit`.
 */
export async function visibleMessagesAfter(
	db: Database,
	appId: number,
	userId: number,
	afterId: number,
	limit: number,
): Promise<MessageRow[]> {
	const rows = await db.all<Record<string, unknown>>(sql`
		SELECT m.id, m.app_id, m.conversation_key, m.type, m.content_type, m.content, m.attachment, m.config, m.ext, m.from_uid,
			m.from_device_sn, m.to_uid, m.timestamp, m.recalled, m.recalled_by, m.is_system
		FROM conversation_members AS c
		JOIN messages AS m ON m.app_id = c.app_id AND m.conversation_key = c.conversation_key
			AND m.id > max(${afterId}, c.clear_point) AND m.id <= coalesce(c.left_at, ${Number.MAX_SAFE_INTEGER})
		WHERE c.app_id = ${appId} AND c.user_id = ${userId}
		ORDER BY m.id
		LIMIT ${limit}`);
	return rows.map(toMessageRow);
}

// ---- messages: the read side ------------------------------------------------

export type HistoryPage = {
	rows: MessageRow[];
	/** Whether the caller has a side in the conversation (for a group: is or was a member). */
	hasSide: boolean;
	/** The caller's and the peer's read positions (0 if they have no side yet). */
	myRead: number;
	peerRead: number;
	/** The newest message the caller, and the peer, have fetched. */
	myDelivered: number;
	peerDelivered: number;
};

type HistoryRow = {
	has_side: number;
	my_read: number;
	peer_read: number;
	my_delivered: number;
	peer_delivered: number;
	/** The page's messages as a JSON array (in SQLite's order), each entry a PageEntry. */
	page: string;
};

/** The columns of a history page's messages, in the order of each entry's JSON array. */
type PageEntry = [
	id: number,
	type: number,
	contentType: number,
	content: string,
	attachment: string,
	config: string,
	ext: string,
	fromUid: number,
	fromDeviceSn: number,
	toUid: number,
	timestamp: number,
	recalled: number,
	recalledBy: string | null,
	isSystem: number,
];

/**
 * One page of history, newest first, from `startId` (inclusive) down, above the
 * caller's clear point, with both sides' positions and whether the caller has a
 * side. One read-only statement (so a replica may serve it): a context row
 * left-joined to both sides (each a primary-key lookup) and then to the page,
 * so that the context comes back even when the page is empty. Plain joins
 * rather than a subquery per position: SQLite still walks the message index
 * newest first and stops at `limit`, and the statement costs half as much to
 * compile and run (bench/NOTES.md). It answers ONE row, the page as a JSON
 * array built by SQLite: each row D1 returns is converted value by value on
 * both sides of the call (bench/NOTES.md, "A page is one row").
 * Recording what the page delivered is the caller's next step
 * (`recordDelivered`), taken only when it moves.
 */
export async function historyPage(
	db: Database,
	appId: number,
	conversationKey: string,
	callerId: number,
	peerId: number,
	startId: number,
	limit: number,
): Promise<HistoryPage> {
	const upTo = startId > 0 ? startId : Number.MAX_SAFE_INTEGER;
	// Every row of the inner page carries the same context; an empty page is one row without a message.
	const [row] = await db.all<HistoryRow>(sql`
		SELECT has_side, my_read, peer_read, my_delivered, peer_delivered,
			json_group_array(json_array(id, type, content_type, content, attachment, config, ext, from_uid, from_device_sn, to_uid,
				timestamp, recalled, recalled_by, is_system)) FILTER (WHERE id IS NOT NULL) AS page
		FROM (
			SELECT
				me.user_id IS NOT NULL AS has_side,
				coalesce(me.read_position, 0) AS my_read,
				coalesce(peer.read_position, 0) AS peer_read,
				coalesce(me.delivered_position, 0) AS my_delivered,
				coalesce(peer.delivered_position, 0) AS peer_delivered,
				page.*
			FROM (SELECT 1) AS context
			LEFT JOIN conversation_members AS me
				ON me.app_id = ${appId} AND me.user_id = ${callerId} AND me.conversation_key = ${conversationKey}
			LEFT JOIN conversation_members AS peer
				ON peer.app_id = ${appId} AND peer.user_id = ${peerId} AND peer.conversation_key = ${conversationKey}
			LEFT JOIN messages AS page ON page.app_id = ${appId} AND page.conversation_key = ${conversationKey}
				AND page.id <= min(${upTo}, coalesce(me.left_at, ${upTo}))
				AND page.id > coalesce(me.clear_point, 0)
			ORDER BY page.id DESC
			LIMIT ${limit})`);
	// An aggregate's order is SQLite's choice (asking for one costs a sort and D1 counts its rows as read): sorted here.
	const entries = (JSON.parse(row?.page ?? "[]") as PageEntry[]).sort((a, b) => b[0] - a[0]);
	return {
		rows: entries.map((entry) => messageFromEntry(appId, conversationKey, entry)),
		hasSide: row?.has_side === 1,
		myRead: row?.my_read ?? 0,
		peerRead: row?.peer_read ?? 0,
		myDelivered: row?.my_delivered ?? 0,
		peerDelivered: row?.peer_delivered ?? 0,
	};
}

/**
 * Records that `userId` has fetched (delivered) the conversation up to
 * `msgId`: a max-register, so it needs no serialising by the conversation's
 * object, and a no-op when the position is already there.
 */
export async function recordDelivered(db: Database, appId: number, userId: number, conversationKey: string, msgId: number): Promise<void> {
	await db.run(sql`
		UPDATE conversation_members SET delivered_position = ${msgId}
		WHERE app_id = ${appId} AND user_id = ${userId} AND conversation_key = ${conversationKey} AND delivered_position < ${msgId}`);
}

function messageFromEntry(appId: number, conversationKey: string, entry: PageEntry): MessageRow {
	const [id, type, contentType, content, attachment, config, ext, fromUid, fromDeviceSn, toUid, timestamp, recalled, recalledBy, isSystem] =
		entry;
	return {
		id,
		appId,
		conversationKey,
		type,
		contentType,
		content,
		attachment,
		config,
		ext,
		fromUid,
		fromDeviceSn,
		toUid,
		timestamp,
		recalled: recalled === 1,
		recalledBy,
		isSystem: isSystem === 1,
	};
}
