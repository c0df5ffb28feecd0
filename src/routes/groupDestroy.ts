import { z } from "zod";
import { authenticate } from "../auth/identity";
import { conversationObject, groupKey } from "../conversation/key";
import { database } from "../db/queries";
import { managedGroup } from "../groups/access";
import { ApiError, ok } from "../http/envelope";
import { id } from "../http/ids";
import { type Handler, queryOf } from "../http/request";
import { parse } from "../http/validate";

const query = z.object({ group_id: id });

/** DELETE|POST /group/destroy?group_id= — the owner or an admin; the history stays readable to former members. */
export const groupDestroy: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const { group_id } = parse(query, queryOf(request), "query");
	await managedGroup(db, app.id, caller, group_id);
	const result = await conversationObject(env, app.id, groupKey(group_id)).destroy({
		appId: app.id,
		groupId: group_id,
		requestId: request.requestId,
	});
	if (!result.ok) throw ApiError.from(result);
	return ok(true);
};
