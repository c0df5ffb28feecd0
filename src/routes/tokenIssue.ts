import { z } from "zod";
import { authenticate, requireAdmin } from "../auth/identity";
import { DEFAULT_TOKEN_TTL_S, issueUserToken, MAX_TOKEN_TTL_S } from "../auth/userTokens";
import { clock } from "../clock";
import { existingUsers } from "../db/memo";
import { database } from "../db/queries";
import { readJsonObject } from "../http/body";
import { notFound, ok } from "../http/envelope";
import { id, integerIn, peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";

const body = z.object({
	user_id: id,
	device_sn: peerId.optional(),
	ttl_s: integerIn(1, MAX_TOKEN_TTL_S).optional(),
});

/** POST /token/issue — the admin mints a token for a user (bots, server-side clients). */
export const tokenIssue: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	requireAdmin(caller);
	const input = parse(body, await readJsonObject(request), "body");
	if (!(await existingUsers(db, app.id, [input.user_id])).has(input.user_id)) throw notFound(`User ${input.user_id} does not exist.`);
	const { token, expire } = await issueUserToken(
		env.TOKEN_SIGNING_KEY,
		{ appId: app.id, userId: input.user_id, deviceSn: input.device_sn ?? 0 },
		input.ttl_s ?? DEFAULT_TOKEN_TTL_S,
		clock.now(),
	);
	return ok({ token, user_id: input.user_id, expire });
};
