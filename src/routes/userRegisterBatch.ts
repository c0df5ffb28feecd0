import { z } from "zod";
import { authenticate, requireAdmin } from "../auth/identity";
import { clock } from "../clock";
import { database } from "../db/queries";
import { readJsonObject } from "../http/body";
import { ok } from "../http/envelope";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";
import { passwordIterations } from "../settings";
import { password, registerUsers, username } from "../users/register";

/** Each item costs a slow password hash: 100 keeps one request well inside CPU limits. */
const MAX_BATCH = 100;

const body = z.object({
	list: z
		.array(z.object({ username, password }), { error: "must be an array of {username, password}" })
		.min(1, { message: "must hold at least one user" })
		.max(MAX_BATCH, { message: `must hold at most ${MAX_BATCH} users` }),
});

/** POST /user/register/batch — admin only; one result row per item, in order. */
export const userRegisterBatch: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	requireAdmin(caller);
	const { list } = parse(body, await readJsonObject(request), "body");
	return ok(await registerUsers(db, app.id, list, passwordIterations(env), clock.now()));
};
