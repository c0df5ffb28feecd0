/**
 * How long to wait before reconnect attempt `attempt` (0, 1, 2, …): the
 * delay doubles from `baseMs` up to `maxMs`, and a random half of it is
 * jitter, so that clients cut at the same moment do not all return at once.
 */
export function backoffMs(attempt: number, random: number = Math.random(), { baseMs = 500, maxMs = 30_000 } = {}): number {
	const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
	return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

/**
 * Where a live channel resumes: the largest message id this client has seen
 * in any conversation — from live events, and also from history pages and
 * the unread list, so that a client that has read but not yet received
 * anything live does not ask for (or miss) what it already holds.
 */
export class ResumePoint {
	#since = 0;

	seen(msgId: number): void {
		if (Number.isSafeInteger(msgId) && msgId > this.#since) this.#since = msgId;
	}

	get since(): number {
		return this.#since;
	}
}
