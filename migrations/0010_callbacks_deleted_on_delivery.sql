-- A delivered callback is deleted rather than kept for an hour (docs/API.md,
-- "Message callbacks"): two indexes fewer to write on every callback, and no
-- purge of delivered rows. Dead letters are found by their own index.
DELETE FROM `callback_outbox` WHERE `state` = 'delivered';
--> statement-breakpoint
DROP INDEX `callback_outbox_webhook`;
--> statement-breakpoint
DROP INDEX `callback_outbox_delivered`;
