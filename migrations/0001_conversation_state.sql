DROP INDEX `conversation_members_by_activity`;--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `delivered_position` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `conversation_members_by_activity` ON `conversation_members` (`app_id`,`user_id`,`last_msg_id`,`conversation_key`);--> statement-breakpoint
ALTER TABLE `messages` ADD `recalled_by` text;