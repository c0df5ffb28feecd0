import { DurableObject } from "cloudflare:workers";
import { clock } from "../clock";

/** A fixed window: it opens at its first event and lasts `periodMs`. */
type Window = { start: number; count: number };

/**
 * Counts the events of one thing — an account's login attempts, a sender's
 * sends — within a window (docs/API.md, rate limits). One object per thing, so the count is
 * exact and global; it lives in the object's synchronous storage, so no other
 * call interleaves with a count and an eviction does not reset it.
 *
 * Not the Workers Rate Limiting binding: its limit is fixed in wrangler.toml
 * (sends are limited per app, by a setting), its counts are per location, and
 * it cannot give back an attempt that turned out to be allowed (a right password).
 */
export class RateLimiter extends DurableObject<Env> {
	/**
	 * Counts one event if fewer than `limit` are counted in the current window:
	 * 0. Otherwise counts nothing and answers the seconds until the window ends.
	 */
	take(limit: number, periodMs: number): number {
		const now = clock.now();
		const stored = this.ctx.storage.kv.get<Window>("window");
		const window = stored && now < stored.start + periodMs ? stored : { start: now, count: 0 };
		if (window.count >= limit) return Math.max(1, Math.ceil((window.start + periodMs - now) / 1000));
		this.ctx.storage.kv.put("window", { start: window.start, count: window.count + 1 });
		return 0;
	}

	/** Gives back one event counted by `take` (a login whose password was right). */
	giveBack(periodMs: number): void {
		const stored = this.ctx.storage.kv.get<Window>("window");
		if (stored && clock.now() < stored.start + periodMs && stored.count > 0) {
			this.ctx.storage.kv.put("window", { start: stored.start, count: stored.count - 1 });
		}
	}
}
