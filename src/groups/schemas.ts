// The schemas the group endpoints share: a list of users, and a group as the registry answers it.
import { z } from "zod";
import { id, idOut } from "../http/ids";
import { MAX_USER_LIST } from "../limits";

export const userList = z
	.array(id, { error: "must be an array of user ids" })
	.max(MAX_USER_LIST, { message: `must name at most ${MAX_USER_LIST} users` })
	.refine((list) => new Set(list).size === list.length, { message: "must not name a user twice" })
	.meta({ description: `User ids, each at most once; at most ${MAX_USER_LIST}.`, uniqueItems: true });

export const groupInfo = z
	.object({
		group_id: idOut,
		name: z.string(),
		description: z.string(),
		avatar: z.string(),
		owner_id: idOut,
		count: z.int().min(0).meta({ description: "Current members." }),
		created_at: z.int().meta({ description: "Milliseconds since the Unix epoch." }),
	})
	.meta({ id: "Group" });

/** The contract parts invite and kick share: the body, one result row per user, and their errors. */
/** One row of an invite or kick, in the source service's shape. */
export const changeRow = (userId: number, reason: string) => ({
	user_id: userId,
	result: reason ? ("fail" as const) : ("success" as const),
	reason,
});

export const memberChange = {
	body: z.object({
		group_id: id,
		// The source service documents an empty list as valid (answered []) and a repeated id as one row.
		user_list: z
			.array(id, { error: "must be an array of user ids" })
			.max(MAX_USER_LIST, { message: `must name at most ${MAX_USER_LIST} users` })
			.transform((list) => [...new Set(list)])
			.meta({ description: `User ids; a repeated id gets one row. At most ${MAX_USER_LIST}.` }),
	}),
	// The source service's names and types: result is the string "success" or "fail".
	data: z.array(
		z.object({
			user_id: idOut,
			result: z.enum(["success", "fail"]),
			reason: z.string().meta({ description: '"" on success; else why ("already a member", "user does not exist", ...).' }),
		}),
	),
	errors: { 403: "Not the owner or an admin.", 404: "No live group group_id.", 503: "A dependency failed; retry." },
};
