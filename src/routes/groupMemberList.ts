import { z } from "zod";
import { authenticate } from "../auth/identity";
import { currentMembers, memberPage } from "../db/groups";
import { database } from "../db/queries";
import { isAdminOf, liveGroup } from "../groups/access";
import { forbidden, ok } from "../http/envelope";
import { id, integerIn, MAX_ID } from "../http/ids";
import { type Handler, queryOf } from "../http/request";
import { parse } from "../http/validate";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

const query = z.object({
	group_id: id,
	limit: integerIn(1, MAX_ID).optional(),
	cursor: z.union([z.literal(""), id]).optional(),
});

/** GET /group/member_list?group_id&cursor&limit — members in user-id order; for members and admins. */
export const groupMemberList: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const input = parse(query, queryOf(request), "query");
	await liveGroup(db, app.id, input.group_id);
	if (!isAdminOf(caller, input.group_id)) {
		const me = caller.kind === "user" ? caller.userId : 0;
		if (!(await currentMembers(db, app.id, input.group_id, [me])).has(me))
			throw forbidden(`Only members of group ${input.group_id} may list its members.`);
	}
	const limit = Math.min(input.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
	const rows = await memberPage(db, app.id, input.group_id, input.cursor || 0, limit + 1);
	const page = rows.slice(0, limit);
	const last = page[page.length - 1];
	return ok(page, { cursor: rows.length > limit && last ? String(last.user_id) : "" });
};
