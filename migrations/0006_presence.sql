-- docs/API.md "Real-time delivery": who has an open realtime channel (one row per user, kept by their UserChannels object).
CREATE TABLE `online_users` (
	`app_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`since` integer NOT NULL,
	PRIMARY KEY(`app_id`, `user_id`)
);
