import { z } from "zod";
import { requireUser } from "../auth/identity";
import { groupsOf } from "../db/groups";
import { idOut } from "../http/ids";
import { endpoint } from "./contract";

export const groupUserJoined = endpoint({
	methods: ["GET"],
	path: "/group/user_joined",
	tag: "Groups",
	summary: "The caller's groups",
	description: "The ids of the groups the caller is a member of, ascending.",
	access: "token",
	data: z.array(idOut),
	handle: async ({ db, app, caller }) => ({ data: await groupsOf(db, app.id, requireUser(caller).userId) }),
});
