CREATE TABLE `group_members` (
	`app_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`joined_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `group_id`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `group_members_by_user` ON `group_members` (`app_id`,`user_id`,`group_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`id` integer PRIMARY KEY NOT NULL,
	`app_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`avatar` text NOT NULL,
	`owner_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	`destroyed` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `left_at` integer;