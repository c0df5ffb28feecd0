import { z } from "zod";
import { memberPage } from "../db/groups";
import { isAdminOf } from "../groups/access";
import { forbidden, notFound } from "../http/envelope";
import { id, idOut } from "../http/ids";
import { pageCursor, pageQuery } from "../http/page";
import { endpoint } from "./contract";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

export const groupMemberList = endpoint({
	methods: ["GET"],
	path: "/group/member_list",
	tag: "Groups",
	summary: "A group's members",
	description: "For members and admins; in user-id order, one page at a time.",
	access: "token",
	query: z.object({
		group_id: id,
		...pageQuery(id, "Members", DEFAULT_LIMIT, MAX_LIMIT),
	}),
	// The source service's member shape (its 群成员格式).
	data: z.array(
		z.object({
			user_id: idOut,
			display_name: z.string().meta({ description: "The member's nick name (their profile's `nick_name`; \"\" until set)." }),
			join_time: z.int().meta({ description: "When the member joined, in milliseconds since the Unix epoch." }),
		}),
	),
	extra: pageCursor,
	errors: { 403: "Not a member.", 404: "No live group group_id." },
	handle: async ({ db, app, caller, query }) => {
		const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
		const viewer = caller.kind === "user" ? caller.userId : 0;
		// One extra member tells whether there is a next page.
		const found = await memberPage(db, app.id, query.group_id, viewer, query.cursor || 0, limit + 1);
		if (!found.live) throw notFound(`Group ${query.group_id} does not exist.`);
		if (!isAdminOf(caller, query.group_id) && !found.viewerIsMember) {
			throw forbidden(`Only members of group ${query.group_id} may list its members.`);
		}
		const page = found.members.slice(0, limit);
		const last = page[page.length - 1];
		return {
			data: page.map((m) => ({ user_id: m.user_id, display_name: m.nick_name, join_time: m.joined_at })),
			extra: { cursor: found.members.length > limit && last ? String(last.user_id) : "" },
		};
	},
});
