import { z } from "zod";
import { authenticate } from "../auth/identity";
import { memberPage } from "../db/groups";
import { database } from "../db/queries";
import { isAdminOf } from "../groups/access";
import { forbidden, notFound, ok } from "../http/envelope";
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

/** GET /group/member_list?group_id&cursor&limit — members in user-id order; for members and admins. One D1 round trip. */
export const groupMemberList: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const input = parse(query, queryOf(request), "query");
	const limit = Math.min(input.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
	const viewer = caller.kind === "user" ? caller.userId : 0;
	// One extra member tells whether there is a next page.
	const found = await memberPage(db, app.id, input.group_id, viewer, input.cursor || 0, limit + 1);
	if (!found.live) throw notFound(`Group ${input.group_id} does not exist.`);
	if (!isAdminOf(caller, input.group_id) && !found.viewerIsMember) {
		throw forbidden(`Only members of group ${input.group_id} may list its members.`);
	}
	const page = found.members.slice(0, limit);
	const last = page[page.length - 1];
	return ok(page, { cursor: found.members.length > limit && last ? String(last.user_id) : "" });
};
