-- Apps spread over several D1 databases (src/db/databases.ts): which binding
-- holds each app. Read in binding DB only; every database gets the same schema.
CREATE TABLE `app_directory` (
	`app_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`database_binding` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `app_directory_key_unique` ON `app_directory` (`key`);
--> statement-breakpoint
-- The apps made before: all in DB.
INSERT INTO `app_directory` (`app_id`, `key`, `database_binding`) SELECT `id`, `key`, 'DB' FROM `apps`;
