// The limits of docs/API.md, rate limits, each counted by one RateLimiter object per thing
// limited. A refused request is answered 429 + Retry-After before it writes
// anything. If the limiter cannot be reached the request goes on (logged):
// an outage of the counter must not take logins and sends down with it.
import { ApiError } from "../http/envelope";

/** Failed logins per account per minute; beyond, every attempt waits for the minute to pass. */
export const LOGIN_FAILURES_PER_MIN = 10;
const MINUTE_MS = 60_000;

const limiter = (env: Env, name: string) => env.RATE_LIMITER.getByName(name);

const tooMany = (what: string, retryAfterS: number) =>
	new ApiError(429, `Too many ${what}; retry after ${retryAfterS} s.`, null, { "retry-after": String(retryAfterS) });

async function take(env: Env, name: string, limit: number, requestId: string): Promise<number> {
	try {
		return await limiter(env, name).take(limit, MINUTE_MS);
	} catch (error) {
		console.error(JSON.stringify({ requestId, at: "rateLimit", dependency: "Durable Object", limiter: name, error: String(error) }));
		return 0;
	}
}

/**
 * A login attempt for `account` (an account id, or the unknown name tried):
 * counted as a failure before the password is checked — so a burst of
 * concurrent guesses cannot all pass — and given back by `loginSucceeded`.
 */
export async function attemptLogin(env: Env, appId: number, account: string, requestId: string): Promise<void> {
	const wait = await take(env, `login/${appId}/${account}`, LOGIN_FAILURES_PER_MIN, requestId);
	if (wait > 0) throw tooMany("failed logins for this account", wait);
}

/** The password was right: the attempt is not a failure. */
export function loginSucceeded(env: Env, ctx: ExecutionContext, appId: number, account: string): void {
	ctx.waitUntil(
		limiter(env, `login/${appId}/${account}`)
			.giveBack(MINUTE_MS)
			.catch(() => undefined),
	);
}

/** A send or notify request by `senderId`, when the app limits sends per sender (send_rate_per_min > 0). */
export async function attemptSend(env: Env, appId: number, senderId: number, perMinute: number, requestId: string): Promise<void> {
	if (perMinute <= 0) return;
	const wait = await take(env, `send/${appId}/${senderId}`, perMinute, requestId);
	if (wait > 0) throw tooMany(`sends by user ${senderId}`, wait);
}
