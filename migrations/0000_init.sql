CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app_id` integer NOT NULL,
	`kind` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `apps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`admin_token_hash` text NOT NULL,
	`open_registration` integer DEFAULT false NOT NULL,
	`recall_window_s` integer DEFAULT 120 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `conversation_members` (
	`app_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`conversation_key` text NOT NULL,
	`type` integer NOT NULL,
	`peer_id` integer NOT NULL,
	`read_position` integer DEFAULT 0 NOT NULL,
	`read_device_sn` integer DEFAULT 0 NOT NULL,
	`clear_point` integer DEFAULT 0 NOT NULL,
	`unread_count` integer DEFAULT 0 NOT NULL,
	`last_msg_id` integer DEFAULT 0 NOT NULL,
	`last_timestamp` integer DEFAULT 0 NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`app_id`, `user_id`, `conversation_key`)
);
--> statement-breakpoint
CREATE INDEX `conversation_members_by_conversation` ON `conversation_members` (`app_id`,`conversation_key`,`user_id`);--> statement-breakpoint
CREATE INDEX `conversation_members_by_activity` ON `conversation_members` (`app_id`,`user_id`,`last_msg_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app_id` integer NOT NULL,
	`conversation_key` text NOT NULL,
	`type` integer NOT NULL,
	`content_type` integer NOT NULL,
	`content` text NOT NULL,
	`attachment` text NOT NULL,
	`config` text NOT NULL,
	`ext` text NOT NULL,
	`from_uid` integer NOT NULL,
	`from_device_sn` integer NOT NULL,
	`to_uid` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`recalled` integer DEFAULT false NOT NULL,
	`is_system` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_conversation` ON `messages` (`app_id`,`conversation_key`,`id`);--> statement-breakpoint
CREATE TABLE `send_dedupe` (
	`app_id` integer NOT NULL,
	`sender_id` integer NOT NULL,
	`transaction_id` integer NOT NULL,
	`target_id` integer NOT NULL,
	`msg_id` integer NOT NULL,
	`body_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `sender_id`, `transaction_id`, `target_id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY NOT NULL,
	`app_id` integer NOT NULL,
	`username` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_app_username` ON `users` (`app_id`,`username`);