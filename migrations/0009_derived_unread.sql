-- Unread counts are derived instead of kept per member (docs/DESIGN.md, "Unread
-- counts"): a message gets its ordinal in its conversation (`seq`), each
-- conversation one row for its newest message (`conversations`), each member's
-- read position, clear point and removal their ordinals; the per-member
-- counter and the list index it kept in order go. Existing data converts here:
-- every unread list and history page reads the same before and after
-- (test/migration.test.ts).
ALTER TABLE `messages` ADD `seq` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
UPDATE `messages` SET `seq` = `ranked`.`n`
FROM (
	SELECT `id`, row_number() OVER (PARTITION BY `app_id`, `conversation_key` ORDER BY `id`) AS `n` FROM `messages`
) AS `ranked`
WHERE `messages`.`id` = `ranked`.`id`;
--> statement-breakpoint
-- WITHOUT ROWID: the row lives in its key's b-tree, so a lookup reads one row and an insert writes one.
CREATE TABLE `conversations` (
	`app_id` integer NOT NULL,
	`conversation_key` text NOT NULL,
	`last_msg_id` integer NOT NULL,
	`last_seq` integer NOT NULL,
	`last_timestamp` integer NOT NULL,
	PRIMARY KEY(`app_id`, `conversation_key`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `conversations` (`app_id`, `conversation_key`, `last_msg_id`, `last_seq`, `last_timestamp`)
SELECT `app_id`, `conversation_key`, `id`, `seq`, `timestamp` FROM `messages` AS `m`
WHERE `id` = (SELECT max(`id`) FROM `messages` WHERE `app_id` = `m`.`app_id` AND `conversation_key` = `m`.`conversation_key`);
--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `read_seq` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `clear_seq` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `left_seq` integer;
--> statement-breakpoint
-- A position's ordinal is the number of the conversation's messages up to it (positions are message ids, or 0).
UPDATE `conversation_members` SET
	`read_seq` = (SELECT count(*) FROM `messages` WHERE `messages`.`app_id` = `conversation_members`.`app_id`
		AND `messages`.`conversation_key` = `conversation_members`.`conversation_key` AND `messages`.`id` <= `conversation_members`.`read_position`),
	`clear_seq` = (SELECT count(*) FROM `messages` WHERE `messages`.`app_id` = `conversation_members`.`app_id`
		AND `messages`.`conversation_key` = `conversation_members`.`conversation_key` AND `messages`.`id` <= `conversation_members`.`clear_point`),
	`left_seq` = CASE WHEN `left_at` IS NULL THEN NULL ELSE (SELECT count(*) FROM `messages` WHERE `messages`.`app_id` = `conversation_members`.`app_id`
		AND `messages`.`conversation_key` = `conversation_members`.`conversation_key` AND `messages`.`id` <= `conversation_members`.`left_at`) END;
--> statement-breakpoint
DROP INDEX `conversation_members_by_activity`;
--> statement-breakpoint
ALTER TABLE `conversation_members` DROP COLUMN `unread_count`;
--> statement-breakpoint
CREATE INDEX `messages_recalled` ON `messages` (`app_id`,`conversation_key`,`id`) WHERE recalled = 1;
