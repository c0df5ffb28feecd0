// Deployment settings read from wrangler.toml [vars], with their bounds.
import { MAX_PASSWORD_ITERATIONS } from "./limits";

const DAY_S = 24 * 3600;

export function passwordIterations(env: Env): number {
	const n = Number(env.PASSWORD_HASH_ITERATIONS);
	return Number.isFinite(n) && n >= 1 ? Math.min(n, MAX_PASSWORD_ITERATIONS) : MAX_PASSWORD_ITERATIONS;
}

/** How long a transaction_id is remembered (docs/API.md: default 24 h, at least 60 s). */
export function dedupeWindowS(env: Env): number {
	const n = Number(env.DEDUPE_WINDOW_S);
	return Number.isFinite(n) ? Math.max(60, Math.floor(n)) : DAY_S;
}

/** Whether each request of the admin token acting as a user or group is logged (docs/OPERATIONS.md "Configuration"). */
export const auditsAdminActing = (env: Env): boolean => env.AUDIT_ADMIN_ACTING === "true";

/** Whether this deployment allows plain-http and private callback URLs (wrangler.toml var; local dev and the tests set it). */
export const allowsPrivateCallbacks = (env: Env): boolean => env.CALLBACK_ALLOW_PRIVATE === "true";
