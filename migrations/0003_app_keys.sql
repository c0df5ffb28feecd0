-- Apps are named by a string key (docs/API.md "Apps, credentials and who is acting"). Existing apps keep their number as their key,
-- so their clients, tokens and the dev app "1" go on working. (SQLite cannot add a NOT NULL
-- column without a default; every insert names the key.)
ALTER TABLE `apps` ADD `key` text NOT NULL DEFAULT '';--> statement-breakpoint
UPDATE `apps` SET `key` = CAST(`id` AS TEXT);--> statement-breakpoint
CREATE UNIQUE INDEX `apps_key` ON `apps` (`key`);
