// Exchanging a password for a user token (POST /token/user, /token/id).
import { clock } from "../clock";
import { unauthorized } from "../http/envelope";
import { DEFAULT_TOKEN_TTL_S } from "../limits";
import { passwordIterations } from "../settings";
import { burnPasswordCheck, verifyPassword } from "./passwords";
import { issueUserToken } from "./userTokens";

const WRONG = "The user or password is incorrect.";

/** Same answer, and about the same time, for an unknown user and a wrong password. */
export async function login(
	env: Env,
	appKey: string,
	user: { id: number; passwordHash: string } | undefined,
	password: string,
	deviceSn: number,
) {
	if (!user) {
		await burnPasswordCheck(password, passwordIterations(env));
		throw unauthorized(WRONG);
	}
	if (!(await verifyPassword(password, user.passwordHash))) throw unauthorized(WRONG);
	const { token, expire } = await issueUserToken(
		env.TOKEN_SIGNING_KEY,
		{ appKey, userId: user.id, deviceSn },
		DEFAULT_TOKEN_TTL_S,
		clock.now(),
	);
	return { token, user_id: user.id, expire };
}
