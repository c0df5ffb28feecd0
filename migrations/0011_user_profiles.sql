-- User profiles (docs/API.md, "Profiles"): the texts a user shows; "" until set.
ALTER TABLE `users` ADD `nick_name` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `avatar` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `description` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `public_info` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `private_info` text DEFAULT '' NOT NULL;