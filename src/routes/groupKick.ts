import { z } from "zod";
import { authenticate } from "../auth/identity";
import { conversationObject, groupKey } from "../conversation/key";
import { currentMembers } from "../db/groups";
import { database } from "../db/queries";
import { managedGroup } from "../groups/access";
import { userList } from "../groups/schemas";
import { readJsonObject } from "../http/body";
import { ApiError, ok } from "../http/envelope";
import { id } from "../http/ids";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";

const body = z.object({ group_id: id, user_list: userList.refine((l) => l.length > 0, { message: "must name at least one user" }) });

/** DELETE|POST /group/kick — the owner or an admin removes members; one result row per user. */
export const groupKick: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const input = parse(body, await readJsonObject(request), "body");
	const group = await managedGroup(db, app.id, caller, input.group_id);
	const members = await currentMembers(db, app.id, input.group_id, input.user_list);
	const rows = input.user_list.map((userId) => {
		const reason = userId === group.owner_id ? "the owner cannot be kicked" : members.has(userId) ? "" : "not a member";
		return { user_id: userId, result: reason === "", reason };
	});
	const leaving = rows.filter((r) => r.result).map((r) => r.user_id);
	if (leaving.length > 0) {
		const result = await conversationObject(env, app.id, groupKey(input.group_id)).remove({
			appId: app.id,
			groupId: input.group_id,
			userIds: leaving,
			requestId: request.requestId,
		});
		if (!result.ok) throw ApiError.from(result);
	}
	return ok(rows);
};
