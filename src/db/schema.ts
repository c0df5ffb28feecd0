// The D1 schema: the single source of truth. `npm run db:generate` turns it into
// SQL migrations in migrations/ (drizzle-kit 0.31 writes flat NNNN_name.sql files,
// the layout wrangler and the test pool read).
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A tenant. `key` is how clients name it (header app_id, tokens, the CLI):
 * a string of 1-64 characters from [A-Za-z0-9_-], chosen at creation or a
 * decimal number. `id` is internal: rows, object names and KV keys use it.
 * The admin token is stored only as a SHA-256 hash (it is a 256-bit random secret).
 */
export const apps = sqliteTable(
	"apps",
	{
		id: integer("id").primaryKey({ autoIncrement: true }),
		key: text("key").notNull(),
		name: text("name").notNull(),
		adminTokenHash: text("admin_token_hash").notNull(),
		openRegistration: integer("open_registration", { mode: "boolean" }).notNull().default(false),
		recallWindowS: integer("recall_window_s").notNull().default(120),
		createdAt: integer("created_at").notNull(),
		/** Message callbacks (docs/API.md "Message callbacks"): "" for none. The secret is write-only through the API. */
		callbackUrl: text("callback_url").notNull().default(""),
		callbackSecret: text("callback_secret").notNull().default(""),
		/** Comma-separated event names, e.g. "CHAT,GROUPCHAT,APPEND,REPLACE". */
		callbackEvents: text("callback_events").notNull().default("CHAT,GROUPCHAT,APPEND,REPLACE"),
		callbackMaxAttempts: integer("callback_max_attempts").notNull().default(10),
		/** Sends per sender per minute; 0: no limit. */
		sendRatePerMin: integer("send_rate_per_min").notNull().default(0),
		/** Callbacks only for writes with one of these users among their parties (a JSON array of ids); "[]": every write. */
		callbackUserIds: text("callback_user_ids").notNull().default("[]"),
	},
	(t) => [uniqueIndex("apps_key").on(t.key)],
);

/**
 * Which D1 database holds each app (src/db/databases.ts), read in binding DB
 * only: the app's number is allocated here, then its `apps` row and all its
 * data are written to the database named by `databaseBinding`. An app never moves.
 */
export const appDirectory = sqliteTable("app_directory", {
	appId: integer("app_id").primaryKey({ autoIncrement: true }),
	key: text("key").notNull().unique(),
	databaseBinding: text("database_binding").notNull(),
});

/**
 * The per-app id space shared by users and groups (docs/API.md): a conversation id
 * names exactly one user or group. Ids are allocated here and never reused.
 */
export const accounts = sqliteTable("accounts", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	appId: integer("app_id").notNull(),
	kind: text("kind", { enum: ["user", "group"] }).notNull(),
});

export const users = sqliteTable(
	"users",
	{
		id: integer("id").primaryKey(),
		appId: integer("app_id").notNull(),
		username: text("username").notNull(),
		passwordHash: text("password_hash").notNull(),
		createdAt: integer("created_at").notNull(),
		/** The profile (docs/API.md, "Profiles"): "" until set. `private_info` is shown only to the user and admins. */
		nickName: text("nick_name").notNull().default(""),
		avatar: text("avatar").notNull().default(""),
		description: text("description").notNull().default(""),
		publicInfo: text("public_info").notNull().default(""),
		privateInfo: text("private_info").notNull().default(""),
		/**
		 * Moderation (docs/API.md, "Moderation"): a disabled user cannot log in and their tokens stop working; a
		 * deleted one is gone for good (the row stays: the id and username are never reused, their messages stay).
		 */
		disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
		deletedAt: integer("deleted_at"),
	},
	(t) => [uniqueIndex("users_app_username").on(t.appId, t.username)],
);

/**
 * Messages. `id` comes from AUTOINCREMENT: unique in the whole database (so in
 * the app) and, because the conversation's Durable Object commits one write at a
 * time, strictly increasing within a conversation. `seq` is the message's
 * ordinal in its conversation (1, 2, …): the number of messages between two
 * points of a conversation is a difference of ordinals, so unread counts are
 * derived, not kept per member (docs/DESIGN.md, "Unread counts").
 */
export const messages = sqliteTable(
	"messages",
	{
		id: integer("id").primaryKey({ autoIncrement: true }),
		appId: integer("app_id").notNull(),
		conversationKey: text("conversation_key").notNull(),
		type: integer("type").notNull(),
		contentType: integer("content_type").notNull(),
		content: text("content").notNull(),
		attachment: text("attachment").notNull(),
		config: text("config").notNull(),
		ext: text("ext").notNull(),
		fromUid: integer("from_uid").notNull(),
		fromDeviceSn: integer("from_device_sn").notNull(),
		toUid: integer("to_uid").notNull(),
		timestamp: integer("timestamp").notNull(),
		recalled: integer("recalled", { mode: "boolean" }).notNull().default(false),
		/** The request that recalled it: lets one batch tell "recalled now" from "was already recalled". */
		recalledBy: text("recalled_by"),
		isSystem: integer("is_system", { mode: "boolean" }).notNull().default(false),
		seq: integer("seq").notNull().default(0),
	},
	(t) => [
		index("messages_conversation").on(t.appId, t.conversationKey, t.id),
		// Recalled messages only (rare): an unread count subtracts those in its range without reading the others.
		index("messages_recalled").on(t.appId, t.conversationKey, t.id).where(sql`recalled = 1`),
	],
);

/**
 * One row per conversation: its newest message (id, ordinal, timestamp),
 * written once per message whatever the number of members. A member's list
 * entry, unread count and order are derived from it and the member's own
 * positions (docs/DESIGN.md, "Unread counts").
 */
export const conversations = sqliteTable(
	"conversations",
	{
		appId: integer("app_id").notNull(),
		conversationKey: text("conversation_key").notNull(),
		lastMsgId: integer("last_msg_id").notNull(),
		lastSeq: integer("last_seq").notNull(),
		lastTimestamp: integer("last_timestamp").notNull(),
	},
	(t) => [primaryKey({ columns: [t.appId, t.conversationKey] })],
);

/**
 * One row per (user, conversation): the user's side of it — read position and
 * clear point (each a message id and its ordinal), removal, and a marker of
 * the user's own activity — written when the user acts (reads, sends, deletes,
 * joins, leaves), never by another member's message. The unread count and the
 * list's order are derived with the conversation's row (`conversations`).
 */
export const conversationMembers = sqliteTable(
	"conversation_members",
	{
		appId: integer("app_id").notNull(),
		userId: integer("user_id").notNull(),
		conversationKey: text("conversation_key").notNull(),
		type: integer("type").notNull(),
		peerId: integer("peer_id").notNull(),
		readPosition: integer("read_position").notNull().default(0),
		/** The ordinal (`messages.seq`) of the read position's message. */
		readSeq: integer("read_seq").notNull().default(0),
		readDeviceSn: integer("read_device_sn").notNull().default(0),
		/** The newest message this user has fetched (history): the peer sees theirs as DELIVERED. */
		deliveredPosition: integer("delivered_position").notNull().default(0),
		clearPoint: integer("clear_point").notNull().default(0),
		clearSeq: integer("clear_seq").notNull().default(0),
		/**
		 * The newest message and its time when the user last acted on the side
		 * (joined, was removed): the list shows the conversation's newest message
		 * when it is newer, this otherwise.
		 */
		lastMsgId: integer("last_msg_id").notNull().default(0),
		lastTimestamp: integer("last_timestamp").notNull().default(0),
		/** Deleted from the user's list, until a message newer than the clear point arrives. */
		deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
		/** Groups: the last message a removed member may see (null while a member), and its ordinal. */
		leftAt: integer("left_at"),
		leftSeq: integer("left_seq"),
	},
	(t) => [
		primaryKey({ columns: [t.appId, t.userId, t.conversationKey] }),
		index("conversation_members_by_conversation").on(t.appId, t.conversationKey, t.userId),
	],
);

/**
 * The exactly-once authority for `transaction_id` (KV is only a cache in front of
 * it). Inserted in the same D1 batch as the message it names, so a duplicate
 * key fails the whole batch and nothing is written twice.
 */
export const sendDedupe = sqliteTable(
	"send_dedupe",
	{
		appId: integer("app_id").notNull(),
		senderId: integer("sender_id").notNull(),
		transactionId: integer("transaction_id").notNull(),
		targetId: integer("target_id").notNull(),
		msgId: integer("msg_id").notNull(),
		bodyHash: text("body_hash").notNull(),
		createdAt: integer("created_at").notNull(),
	},
	(t) => [
		primaryKey({ columns: [t.appId, t.senderId, t.transactionId, t.targetId] }),
		// The scheduled purge finds expired rows by age.
		index("send_dedupe_by_age").on(t.createdAt),
	],
);

/** A group: its id comes from `accounts`, the id space it shares with users. */
export const groups = sqliteTable("groups", {
	id: integer("id").primaryKey(),
	appId: integer("app_id").notNull(),
	name: text("name").notNull(),
	description: text("description").notNull(),
	avatar: text("avatar").notNull(),
	ownerId: integer("owner_id").notNull(),
	createdAt: integer("created_at").notNull(),
	destroyed: integer("destroyed", { mode: "boolean" }).notNull().default(false),
});

/** Current members of a group (a removed member keeps only their conversation side). */
export const groupMembers = sqliteTable(
	"group_members",
	{
		appId: integer("app_id").notNull(),
		groupId: integer("group_id").notNull(),
		userId: integer("user_id").notNull(),
		joinedAt: integer("joined_at").notNull(),
	},
	(t) => [primaryKey({ columns: [t.appId, t.groupId, t.userId] }), index("group_members_by_user").on(t.appId, t.userId, t.groupId)],
);

/**
 * Users with at least one open realtime channel (docs/API.md "Real-time delivery"), kept by each
 * user's UserChannels object: a conversation's write reads who of its members
 * is here in its own batch, and pushes to those only.
 */
export const onlineUsers = sqliteTable(
	"online_users",
	{
		appId: integer("app_id").notNull(),
		userId: integer("user_id").notNull(),
		since: integer("since").notNull(),
	},
	(t) => [primaryKey({ columns: [t.appId, t.userId] })],
);

/**
 * Message callbacks owed to the app's backend (docs/API.md, "Message
 * callbacks"), one row per event, written in the same D1 batch as the write it
 * reports. `id` orders a conversation's callbacks (commit order); the
 * conversation's Durable Object delivers its pending rows one at a time. A
 * delivered row is deleted (by the conversation's next write, or its alarm);
 * a dead-lettered one stays until redelivered or expired. Each index is a row
 * written twice per callback (its insert and its delete): only those a read
 * needs are kept.
 */
export const callbackOutbox = sqliteTable(
	"callback_outbox",
	{
		id: integer("id").primaryKey({ autoIncrement: true }),
		appId: integer("app_id").notNull(),
		conversationKey: text("conversation_key").notNull(),
		/** x-webhook-id: the same on every attempt. */
		webhookId: text("webhook_id").notNull(),
		event: text("event", { enum: ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"] }).notNull(),
		msgId: integer("msg_id").notNull(),
		relatedMid: integer("related_mid").notNull(),
		fromUid: integer("from_uid").notNull(),
		fromDeviceSn: integer("from_device_sn").notNull(),
		toUid: integer("to_uid").notNull(),
		contentType: integer("content_type").notNull(),
		content: text("content").notNull(),
		ext: text("ext").notNull(),
		config: text("config").notNull(),
		attachment: text("attachment").notNull(),
		timestamp: integer("timestamp").notNull(),
		isSystem: integer("is_system", { mode: "boolean" }).notNull(),
		state: text("state", { enum: ["pending", "dead"] }).notNull(),
		attempts: integer("attempts").notNull().default(0),
		nextAttemptAt: integer("next_attempt_at").notNull(),
		lastStatus: integer("last_status"),
		lastError: text("last_error"),
		/** When it was dead-lettered. */
		settledAt: integer("settled_at"),
		createdAt: integer("created_at").notNull(),
	},
	(t) => [
		index("callback_outbox_pending").on(t.appId, t.conversationKey, t.id).where(sql`state = 'pending'`),
		// Covers the sweep: which conversations have callbacks overdue.
		index("callback_outbox_due").on(t.nextAttemptAt, t.appId, t.conversationKey).where(sql`state = 'pending'`),
		index("callback_outbox_dead").on(t.appId, t.settledAt, t.id).where(sql`state = 'dead'`),
		index("callback_outbox_dead_age").on(t.settledAt).where(sql`state = 'dead'`),
	],
);
