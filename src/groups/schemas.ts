import { z } from "zod";
import { id } from "../http/ids";

/** At most this many users per invite, kick or create call. */
export const MAX_USER_LIST = 1000;

export const userList = z
	.array(id, { error: "must be an array of user ids" })
	.max(MAX_USER_LIST, { message: `must name at most ${MAX_USER_LIST} users` })
	.refine((list) => new Set(list).size === list.length, { message: "must not name a user twice" });
