-- Message callbacks (docs/API.md "Message callbacks"): the app's callback settings, the outbox of callbacks owed,
-- and an index by age on send_dedupe for the scheduled purge.
CREATE TABLE `callback_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app_id` integer NOT NULL,
	`conversation_key` text NOT NULL,
	`webhook_id` text NOT NULL,
	`event` text NOT NULL,
	`msg_id` integer NOT NULL,
	`related_mid` integer NOT NULL,
	`from_uid` integer NOT NULL,
	`from_device_sn` integer NOT NULL,
	`to_uid` integer NOT NULL,
	`content_type` integer NOT NULL,
	`content` text NOT NULL,
	`ext` text NOT NULL,
	`config` text NOT NULL,
	`attachment` text NOT NULL,
	`timestamp` integer NOT NULL,
	`is_system` integer NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_status` integer,
	`last_error` text,
	`settled_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `callback_outbox_webhook` ON `callback_outbox` (`app_id`,`webhook_id`);--> statement-breakpoint
CREATE INDEX `callback_outbox_pending` ON `callback_outbox` (`app_id`,`conversation_key`,`id`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `callback_outbox_due` ON `callback_outbox` (`next_attempt_at`,`app_id`,`conversation_key`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `callback_outbox_dead` ON `callback_outbox` (`app_id`,`settled_at`,`id`) WHERE state = 'dead';--> statement-breakpoint
CREATE INDEX `callback_outbox_dead_age` ON `callback_outbox` (`settled_at`) WHERE state = 'dead';--> statement-breakpoint
CREATE INDEX `callback_outbox_delivered` ON `callback_outbox` (`settled_at`) WHERE state = 'delivered';--> statement-breakpoint
ALTER TABLE `apps` ADD `callback_url` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `callback_secret` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `callback_events` text DEFAULT 'CHAT,GROUPCHAT,APPEND,REPLACE' NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `callback_max_attempts` integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `send_rate_per_min` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `send_dedupe_by_age` ON `send_dedupe` (`created_at`);