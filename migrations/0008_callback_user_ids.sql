-- Callbacks for the writes of listed users only (POST /app/settings callback_user_ids); '[]': every write.
ALTER TABLE `apps` ADD `callback_user_ids` text DEFAULT '[]' NOT NULL;
