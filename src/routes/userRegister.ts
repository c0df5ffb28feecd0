import { z } from "zod";
import { authenticate, requireAdmin, resolveApp } from "../auth/identity";
import { clock } from "../clock";
import { database } from "../db/queries";
import { readJsonObject } from "../http/body";
import { conflict, ok } from "../http/envelope";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";
import { passwordIterations } from "../settings";
import { password, registerUsers, username } from "../users/register";

const body = z.object({ username, password });

/** POST /user/register/v2 — admin only, unless the app allows open registration. */
export const userRegister: Handler = async (request, env) => {
	const db = database(env.DB);
	const app = await resolveApp(request, db);
	if (!app.openRegistration) requireAdmin((await authenticate(request, env, db)).caller);
	const input = parse(body, await readJsonObject(request), "body");
	const [result] = await registerUsers(db, app.id, [input], passwordIterations(env), clock.now());
	if (!result?.success) throw conflict(`Username "${input.username}" is already taken.`);
	return ok({ user_id: result.user_id, username: result.username });
};
