import { z } from "zod";
import { requireAdmin } from "../auth/identity";
import { clock } from "../clock";
import { idOut } from "../http/ids";
import { MAX_REGISTER_BATCH } from "../limits";
import { passwordIterations } from "../settings";
import { password, registerUsers, username } from "../users/register";
import { endpoint } from "./contract";

export const userRegisterBatch = endpoint({
	methods: ["POST"],
	path: "/user/register/batch",
	tag: "Users",
	summary: "Register several users",
	description: "Admin only. One result row per item, in order; a taken or repeated username fails only its own row.",
	access: "token",
	body: z.object({
		list: z
			.array(z.object({ username, password }), { error: "must be an array of {username, password}" })
			.min(1, { message: "must hold at least one user" })
			.max(MAX_REGISTER_BATCH, { message: `must hold at most ${MAX_REGISTER_BATCH} users` }),
	}),
	data: z.array(z.object({ user_id: idOut, username: z.string(), success: z.boolean(), reason: z.string() })),
	handle: async ({ env, db, app, caller, body }) => {
		requireAdmin(caller);
		return { data: await registerUsers(db, app.id, body.list, passwordIterations(env), clock.now()) };
	},
});
