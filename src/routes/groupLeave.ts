import { z } from "zod";
import { authenticate, requireUser } from "../auth/identity";
import { conversationObject, groupKey } from "../conversation/key";
import { currentMembers } from "../db/groups";
import { database } from "../db/queries";
import { liveGroup } from "../groups/access";
import { ApiError, forbidden, notFound, ok } from "../http/envelope";
import { id } from "../http/ids";
import { type Handler, queryOf } from "../http/request";
import { parse } from "../http/validate";

const query = z.object({ group_id: id });

/** DELETE|POST /group/leave?group_id= — a member leaves; the owner only through an admin acting for them. */
export const groupLeave: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const me = requireUser(caller);
	const { group_id } = parse(query, queryOf(request), "query");
	const group = await liveGroup(db, app.id, group_id);
	if (!(await currentMembers(db, app.id, group_id, [me.userId])).has(me.userId))
		throw notFound(`User ${me.userId} is not a member of group ${group_id}.`);
	if (group.owner_id === me.userId && !(caller.kind === "user" && caller.viaAdmin)) {
		throw forbidden(`The owner cannot leave group ${group_id}: destroy it, or an admin acts for the owner.`);
	}
	const result = await conversationObject(env, app.id, groupKey(group_id)).remove({
		appId: app.id,
		groupId: group_id,
		userIds: [me.userId],
		requestId: request.requestId,
	});
	if (!result.ok) throw ApiError.from(result);
	return ok(true);
};
