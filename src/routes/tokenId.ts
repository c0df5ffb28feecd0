import { z } from "zod";
import { resolveApp } from "../auth/identity";
import { login } from "../auth/login";
import { database, findUserById } from "../db/queries";
import { readJsonObject } from "../http/body";
import { ok } from "../http/envelope";
import { id, peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";

const body = z.object({
	user_id: id,
	password: z.string({ error: "must be a string" }),
	device_sn: peerId.optional(),
});

/** POST /token/id — user id + password; no access-token needed. */
export const tokenId: Handler = async (request, env) => {
	const db = database(env.DB);
	const app = await resolveApp(request, db);
	const input = parse(body, await readJsonObject(request), "body");
	const user = await findUserById(db, app.id, input.user_id);
	return ok(await login(env, app.id, user, input.password, input.device_sn ?? 0));
};
