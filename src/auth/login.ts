// Exchanging a password for a user token (POST /token/user, /token/id).
import { clock } from "../clock";
import { forbidden, unauthorized } from "../http/envelope";
import { DEFAULT_TOKEN_TTL_S } from "../limits";
import { attemptLogin, loginSucceeded } from "../rateLimits/limits";
import { passwordIterations } from "../settings";
import { burnPasswordCheck, verifyPassword } from "./passwords";
import { issueUserToken } from "./userTokens";

const WRONG = "The user or password is incorrect.";

export type LoginContext = { env: Env; ctx: ExecutionContext; app: { id: number; key: string }; requestId: string };

/**
 * Same answer, and about the same time, for an unknown user and a wrong
 * password. `tried` names the account as the caller did (for an unknown one):
 * the failures of one account are limited per minute (docs/API.md, rate limits), counted by
 * the account id whichever way it was named.
 */
export async function login(
	{ env, ctx, app, requestId }: LoginContext,
	found: { id: number; passwordHash: string; disabled: boolean; deletedAt: number | null } | undefined,
	tried: string,
	password: string,
	deviceSn: number,
) {
	// A deleted user is an unknown one (docs/API.md, "Moderation").
	const user = found?.deletedAt === null ? found : undefined;
	const account = user ? `user:${user.id}` : tried;
	await attemptLogin(env, app.id, account, requestId);
	if (!user) {
		await burnPasswordCheck(password, passwordIterations(env));
		throw unauthorized(WRONG);
	}
	if (!(await verifyPassword(password, user.passwordHash))) throw unauthorized(WRONG);
	// Said only to whoever knows the password.
	if (user.disabled) throw forbidden("This user is disabled.");
	loginSucceeded(env, ctx, app.id, account);
	const { token, expire } = await issueUserToken(
		env.TOKEN_SIGNING_KEY,
		{ appKey: app.key, userId: user.id, deviceSn },
		DEFAULT_TOKEN_TTL_S,
		clock.now(),
	);
	return { token, user_id: user.id, expire };
}
