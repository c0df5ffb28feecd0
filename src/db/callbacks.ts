// SQL for message callbacks (docs/API.md "Message callbacks"): the outbox rows a write owes, written
// in the write's own batch; what a conversation's drainer reads and settles;
// the dead-letter list, redelivery, the sweep and the purge.
import { type SQL, sql } from "drizzle-orm";
import { batchSql, type Database } from "./client";
import type { callbackOutbox } from "./schema";

export type CallbackEvent = (typeof callbackOutbox.$inferSelect)["event"];
export const CALLBACK_EVENTS: readonly CallbackEvent[] = ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"];

/**
 * Whether the app wants `event` of the conversation called back, decided
 * where the write commits: a settings change answered before the write is
 * always seen, and an app without a callback URL has no row written. With
 * `callback_user_ids` set, only a write with a listed user among its parties:
 * either user of a one-to-one conversation, or a current member of the group.
 */
const wants = (appId: number, conversationKey: string, event: CallbackEvent) =>
	sql`EXISTS (SELECT 1 FROM apps WHERE apps.id = ${appId} AND apps.callback_url != ''
		AND instr(',' || apps.callback_events || ',', ${`,${event},`}) > 0
		AND (apps.callback_user_ids = '[]' OR ${listedParty(appId, conversationKey)}))`;

/** Whether a user of `apps.callback_user_ids` is a party of the conversation (SQL inside `wants`). */
function listedParty(appId: number, conversationKey: string): SQL {
	const listed = sql`SELECT value FROM json_each(apps.callback_user_ids)`;
	const [kind, a, b] = conversationKey.split(":");
	return kind === "g"
		? sql`EXISTS (SELECT 1 FROM group_members WHERE group_members.app_id = ${appId} AND group_members.group_id = ${Number(a)}
				AND group_members.user_id IN (${listed}))`
		: sql`EXISTS (SELECT 1 FROM json_each(apps.callback_user_ids) WHERE value IN (${Number(a)}, ${Number(b)}))`;
}

/**
 * The columns of a callback that differ by event, as SQL over the `messages`
 * row the callback names (the statement selects from that row).
 */
export type CallbackColumns = {
	relatedMid: SQL;
	fromUid: SQL;
	fromDeviceSn: SQL;
	toUid: SQL;
	content: SQL;
	ext: SQL;
	config: SQL;
	attachment: SQL;
	timestamp: SQL;
};

/**
 * One INSERT … SELECT that owes `event` for each `messages` row matching
 * `where` (zero or one), if the app wants it. Placed in the write's batch
 * (see `batchOwing`), it commits with the write or not at all, and returns
 * the callback so that the conversation's object can deliver it at once.
 */
export function oweCallback(
	appId: number,
	conversationKey: string,
	event: CallbackEvent,
	nowMs: number,
	where: SQL,
	c: CallbackColumns,
): SQL {
	return sql`
		INSERT INTO callback_outbox (app_id, conversation_key, webhook_id, event, msg_id, related_mid, from_uid, from_device_sn, to_uid,
			content_type, content, ext, config, attachment, timestamp, is_system, state, attempts, next_attempt_at, created_at)
		SELECT ${appId}, ${conversationKey}, lower(hex(randomblob(16))), ${event}, id, ${c.relatedMid}, ${c.fromUid}, ${c.fromDeviceSn}, ${c.toUid},
			content_type, ${c.content}, ${c.ext}, ${c.config}, ${c.attachment}, ${c.timestamp}, is_system, 'pending', 0, ${nowMs}, ${nowMs}
		FROM messages WHERE ${where} AND ${wants(appId, conversationKey, event)}
		RETURNING ${DUE_COLUMNS}`;
}

/** The callback of a new message (CHAT or GROUPCHAT): the row as stored. */
export const oweNewMessage = (appId: number, conversationKey: string, event: "CHAT" | "GROUPCHAT", msgId: SQL, nowMs: number) =>
	oweCallback(appId, conversationKey, event, nowMs, sql`id = ${msgId} AND app_id = ${appId} AND conversation_key = ${conversationKey}`, {
		relatedMid: sql`0`,
		fromUid: sql`from_uid`,
		fromDeviceSn: sql`from_device_sn`,
		toUid: sql`to_uid`,
		content: sql`content`,
		ext: sql`ext`,
		config: sql`config`,
		attachment: sql`attachment`,
		timestamp: sql`timestamp`,
	});

/** An operation's actor and the other side of the conversation from the actor's view (null: the message's receiver). */
export type Actor = { uid: number; deviceSn: number; to: number | null };

/** Columns of a callback about an existing message (APPEND, REPLACE, RECALL, READ), by `actor`, at `nowMs`. */
export const operationColumns = (
	actor: Actor,
	nowMs: number,
	body: Pick<CallbackColumns, "content" | "ext" | "config" | "attachment">,
) => ({
	relatedMid: sql`id`,
	fromUid: sql`${actor.uid}`,
	fromDeviceSn: sql`${actor.deviceSn}`,
	toUid: actor.to === null ? sql`to_uid` : sql`${actor.to}`,
	timestamp: sql`${nowMs}`,
	...body,
});

export const emptyBody = { content: sql`''`, ext: sql`''`, config: sql`''`, attachment: sql`''` };

// ---- what the drainer delivers ------------------------------------------------

export type DueCallback = {
	id: number;
	webhookId: string;
	event: CallbackEvent;
	msgId: number;
	relatedMid: number;
	fromUid: number;
	fromDeviceSn: number;
	toUid: number;
	contentType: number;
	content: string;
	ext: string;
	config: string;
	attachment: string;
	timestamp: number;
	isSystem: boolean;
	attempts: number;
	nextAttemptAt: number;
	/** The message it is about is recalled (as far as known): it goes out as a tombstone. */
	recalled: boolean;
};

/** Where to deliver: the app's settings as read with the callbacks (never a remembered copy). */
export type Destination = { appKey: string; url: string; secret: string; maxAttempts: number };

/** Callbacks a write just owed, with the app's settings read in the same transaction. */
export type Owed = { rows: DueCallback[]; destination: Destination | null };
export const NOTHING_OWED: Owed = { rows: [], destination: null };

const DUE_COLUMNS = sql.raw(`id, webhook_id, event, msg_id, related_mid, from_uid, from_device_sn, to_uid, content_type, content,
	ext, config, attachment, timestamp, is_system, attempts, next_attempt_at`);

type DueRow = {
	id: number;
	webhook_id: string;
	event: CallbackEvent;
	msg_id: number;
	related_mid: number;
	from_uid: number;
	from_device_sn: number;
	to_uid: number;
	content_type: number;
	content: string;
	ext: string;
	config: string;
	attachment: string;
	timestamp: number;
	is_system: number;
	attempts: number;
	next_attempt_at: number;
	/** Read with the message (takeDue); a row just owed has none. */
	recalled?: number;
};
type DestinationRow = { app_key: string; callback_url: string; callback_secret: string; callback_max_attempts: number };

const dueOf = (r: DueRow): DueCallback => ({
	id: r.id,
	webhookId: r.webhook_id,
	event: r.event,
	msgId: r.msg_id,
	relatedMid: r.related_mid,
	fromUid: r.from_uid,
	fromDeviceSn: r.from_device_sn,
	toUid: r.to_uid,
	contentType: r.content_type,
	content: r.content,
	ext: r.ext,
	config: r.config,
	attachment: r.attachment,
	timestamp: r.timestamp,
	isSystem: r.is_system === 1,
	attempts: r.attempts,
	nextAttemptAt: r.next_attempt_at,
	// Just owed, only a RECALL's own message is recalled.
	recalled: r.recalled === undefined ? r.event === "RECALL" : r.recalled === 1,
});

const destinationOf = (r: DestinationRow | undefined): Destination | null =>
	r ? { appKey: r.app_key, url: r.callback_url, secret: r.callback_secret, maxAttempts: r.callback_max_attempts } : null;

const destinationSql = (appId: number) =>
	sql`SELECT key AS app_key, callback_url, callback_secret, callback_max_attempts FROM apps WHERE id = ${appId}`;

/**
 * Runs a write's statements as ONE atomic batch, followed by a read of the
 * app's callback settings; `owing` are the indexes of its `oweCallback`
 * statements. Returns the statements' results (same indexes) and what the
 * write now owes.
 */
export async function batchOwing(
	db: Database,
	appId: number,
	statements: SQL[],
	owing: number[],
): Promise<{ results: D1Result<Record<string, unknown>>[]; owed: Owed }> {
	const results = await batchSql(db, [...statements, destinationSql(appId)]);
	const rows = owing.flatMap((i) => ((results[i]?.results ?? []) as DueRow[]).map(dueOf));
	const destination = destinationOf(results[statements.length]?.results[0] as DestinationRow | undefined);
	return { results: results.slice(0, statements.length), owed: rows.length > 0 ? { rows, destination } : NOTHING_OWED };
}

/** What became of one attempt. */
export type Settlement =
	| { id: number; kind: "delivered"; status: number }
	| { id: number; kind: "retry"; attempts: number; nextAttemptAt: number; status: number | null; error: string }
	| { id: number; kind: "dead"; attempts: number; status: number | null; error: string };

function settle(s: Exclude<Settlement, { kind: "delivered" }>, nowMs: number): SQL {
	const pending = sql`id = ${s.id} AND state = 'pending'`;
	return s.kind === "retry"
		? sql`UPDATE callback_outbox SET attempts = ${s.attempts}, next_attempt_at = ${s.nextAttemptAt}, last_status = ${s.status},
				last_error = ${s.error} WHERE ${pending}`
		: sql`UPDATE callback_outbox SET state = 'dead', attempts = ${s.attempts}, last_status = ${s.status}, last_error = ${s.error},
				settled_at = ${nowMs} WHERE ${pending}`;
}

/**
 * The conversation's oldest pending callbacks (commit order), leaving out
 * those its object has delivered but not yet recorded, with the app's
 * current callback settings. One round trip.
 */
export async function takeDue(
	db: Database,
	appId: number,
	conversationKey: string,
	deliveredUnrecorded: number[],
	limit: number,
): Promise<Owed> {
	const [rows, destination] = await batchSql(db, [
		// With each callback, whether its message is recalled now: a retry carries the message as it is.
		sql`
			SELECT ${DUE_COLUMNS}, coalesce((SELECT recalled FROM messages WHERE messages.id = callback_outbox.msg_id), 0) AS recalled
			FROM callback_outbox
			WHERE app_id = ${appId} AND conversation_key = ${conversationKey} AND state = 'pending'
				${deliveredUnrecorded.length > 0 ? sql`AND id NOT IN (SELECT value FROM json_each(${JSON.stringify(deliveredUnrecorded)}))` : sql``}
			ORDER BY id LIMIT ${limit}`,
		destinationSql(appId),
	]);
	return {
		rows: ((rows?.results ?? []) as DueRow[]).map(dueOf),
		destination: destinationOf(destination?.results[0] as DestinationRow | undefined),
	};
}

/** Records a retry or a dead letter. */
export async function settleCallback(db: Database, s: Exclude<Settlement, { kind: "delivered" }>, nowMs: number): Promise<void> {
	await db.run(settle(s, nowMs));
}

/**
 * Records delivered callbacks by deleting them: nothing is left to do for a
 * delivered callback, so it costs no purge later. The object gathers them, so
 * a conversation pays one statement for many, and a busy one none of its own:
 * the statement rides in the conversation's next write batch.
 */
export const recordDeliveredSql = (ids: number[]) => sql`
	DELETE FROM callback_outbox WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND state = 'pending'`;

export async function recordDelivered(db: Database, ids: number[]): Promise<void> {
	await db.run(recordDeliveredSql(ids));
}

// ---- dead letters -----------------------------------------------------------

export type DeadLetter = {
	id: number;
	webhookId: string;
	msgId: number;
	event: CallbackEvent;
	attempts: number;
	lastStatus: number | null;
	lastError: string | null;
	failedAt: number;
};

/** The app's dead-lettered callbacks, newest first, after `before` (exclusive). */
export async function deadLetters(
	db: Database,
	appId: number,
	before: { failedAt: number; id: number } | null,
	limit: number,
): Promise<DeadLetter[]> {
	const rows = await db.all<{
		id: number;
		webhook_id: string;
		msg_id: number;
		event: CallbackEvent;
		attempts: number;
		last_status: number | null;
		last_error: string | null;
		settled_at: number;
	}>(sql`
		SELECT id, webhook_id, msg_id, event, attempts, last_status, last_error, settled_at FROM callback_outbox
		WHERE app_id = ${appId} AND state = 'dead'
			${before ? sql`AND (settled_at < ${before.failedAt} OR (settled_at = ${before.failedAt} AND id < ${before.id}))` : sql``}
		ORDER BY settled_at DESC, id DESC LIMIT ${limit}`);
	return rows.map((r) => ({
		id: r.id,
		webhookId: r.webhook_id,
		msgId: r.msg_id,
		event: r.event,
		attempts: r.attempts,
		lastStatus: r.last_status,
		lastError: r.last_error,
		failedAt: r.settled_at,
	}));
}

/** Dead letters requeued by one statement of `{all: true}` (it repeats until fewer come back). */
const REQUEUE_CHUNK = 1000;

/**
 * Puts dead-lettered callbacks back in their conversations' queues with fresh
 * attempts (their ids keep their original order). Returns the conversations
 * whose drainers must be woken, and how many were queued.
 */
export async function requeueDead(
	db: Database,
	appId: number,
	which: { webhookIds: string[] } | { all: true },
	nowMs: number,
): Promise<{ queued: number; conversationKeys: string[] }> {
	const requeue = (chosen: SQL) =>
		db.all<{ conversation_key: string }>(sql`
			UPDATE callback_outbox SET state = 'pending', attempts = 0, next_attempt_at = ${nowMs}, last_status = NULL, last_error = NULL, settled_at = NULL
			WHERE id IN (${chosen}) AND state = 'dead'
			RETURNING conversation_key`);
	const rows: { conversation_key: string }[] = [];
	if ("all" in which) {
		for (;;) {
			const chunk = await requeue(sql`
				SELECT id FROM callback_outbox WHERE app_id = ${appId} AND state = 'dead' ORDER BY settled_at, id LIMIT ${REQUEUE_CHUNK}`);
			rows.push(...chunk);
			if (chunk.length < REQUEUE_CHUNK) break;
		}
	} else {
		// Found among the app's dead letters, in their index's order (webhook ids have no index of their own: it
		// would be written with every callback, for this rare admin call).
		rows.push(
			...(await requeue(sql`
				SELECT id FROM callback_outbox WHERE app_id = ${appId} AND state = 'dead'
					AND webhook_id IN (SELECT value FROM json_each(${JSON.stringify(which.webhookIds)}))
				ORDER BY settled_at, id LIMIT ${which.webhookIds.length}`)),
		);
	}
	return { queued: rows.length, conversationKeys: [...new Set(rows.map((r) => r.conversation_key))] };
}

// ---- the schedule -----------------------------------------------------------

/**
 * Conversations with a callback due before `dueBefore` (their drainer may
 * never have been woken), read from the covering index of pending rows.
 */
export async function overdueConversations(db: Database, dueBefore: number, limit: number) {
	return db.all<{ app_id: number; conversation_key: string }>(sql`
		SELECT app_id, conversation_key FROM callback_outbox INDEXED BY callback_outbox_due
		WHERE state = 'pending' AND next_attempt_at < ${dueBefore}
		GROUP BY app_id, conversation_key LIMIT ${limit}`);
}

/** Deletes up to `limit` of each: expired dead letters, expired dedupe rows. One batch. */
export async function purgeExpired(
	db: Database,
	before: { dead: number; dedupe: number },
	limit: number,
): Promise<{ dead: number; dedupe: number }> {
	const [dead, dedupe] = await batchSql(db, [
		sql`DELETE FROM callback_outbox WHERE id IN (
			SELECT id FROM callback_outbox WHERE state = 'dead' AND settled_at < ${before.dead} LIMIT ${limit})`,
		sql`DELETE FROM send_dedupe WHERE rowid IN (SELECT rowid FROM send_dedupe WHERE created_at < ${before.dedupe} LIMIT ${limit})`,
	]);
	return { dead: dead?.meta.changes ?? 0, dedupe: dedupe?.meta.changes ?? 0 };
}
