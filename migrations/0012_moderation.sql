-- Moderation (docs/API.md, "Moderation"): disabled users, and deleted ones (the row stays: ids and usernames are never reused).
ALTER TABLE `users` ADD `disabled` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `deleted_at` integer;