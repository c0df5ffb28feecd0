import { z } from "zod";
import { resolveApp } from "../auth/identity";
import { login } from "../auth/login";
import { database, findUserByName } from "../db/queries";
import { readJsonObject } from "../http/body";
import { ok } from "../http/envelope";
import { peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";

const body = z.object({
	name: z.string({ error: "must be a string" }),
	password: z.string({ error: "must be a string" }),
	device_sn: peerId.optional(),
});

/** POST /token/user — username + password; no access-token needed. */
export const tokenUser: Handler = async (request, env) => {
	const db = database(env.DB);
	const app = await resolveApp(request, db);
	const input = parse(body, await readJsonObject(request), "body");
	const user = await findUserByName(db, app.id, input.name);
	return ok(await login(env, app.id, user, input.password, input.device_sn ?? 0));
};
