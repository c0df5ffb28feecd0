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

/** One row per user of an invite or kick. */
export const memberChange = z.array(
	z.object({ user_id: idOut, result: z.boolean(), reason: z.string().meta({ description: '"" when result is true.' }) }),
);
