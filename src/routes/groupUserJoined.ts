import { authenticate, requireUser } from "../auth/identity";
import { groupsOf } from "../db/groups";
import { database } from "../db/queries";
import { ok } from "../http/envelope";
import type { Handler } from "../http/request";

/** GET /group/user_joined — the ids of the groups the caller is a member of. */
export const groupUserJoined: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	return ok(await groupsOf(db, app.id, requireUser(caller).userId));
};
