-- docs/API.md: one transaction_id names one request, whatever its targets.
-- Each target's conversation writes its own send_dedupe row in its own batch;
-- this trigger makes every such row agree with the rows already written for
-- the same (app, sender, transaction_id): a row for a different request (other
-- body hash — the hash covers the targets) aborts the whole batch, so none of
-- that request's targets is written. D1 runs one write at a time, so the first
-- row committed decides, also when two requests race and when KV is stale.
-- Rows past the dedupe window abort too: the writer forgets them and retries
-- (conversation/transactions.ts).
CREATE TRIGGER `send_dedupe_one_request`
BEFORE INSERT ON `send_dedupe`
WHEN EXISTS (
	SELECT 1 FROM `send_dedupe`
	WHERE `app_id` = NEW.`app_id` AND `sender_id` = NEW.`sender_id`
		AND `transaction_id` = NEW.`transaction_id` AND `body_hash` <> NEW.`body_hash`
)
BEGIN
	SELECT RAISE(ABORT, 'send_dedupe: transaction_id used for another request');
END;
