import { z } from "zod";
import { requireAdmin } from "../auth/identity";
import { changeProfiles } from "../db/users";
import { id, idOut } from "../http/ids";
import { MAX_PROFILE_BATCH } from "../limits";
import { profileFields, toProfileChange } from "../users/profile";
import { endpoint } from "./contract";

export const userProfileBatch = endpoint({
	methods: ["POST", "PUT"],
	path: "/user/profile/batch",
	tag: "Users",
	summary: "Change several users' profiles (admin)",
	description: "One result row per item, in order: a user who does not exist fails only their own row. Atomic for the rest.",
	access: "token",
	body: z.object({
		list: z
			.array(z.object({ user_id: id, ...profileFields }), { error: "must be an array of {user_id, …profile fields}" })
			.min(1, { message: "must hold at least one user" })
			.max(MAX_PROFILE_BATCH, { message: `must hold at most ${MAX_PROFILE_BATCH} users` }),
	}),
	data: z.array(z.object({ user_id: idOut, success: z.boolean(), reason: z.string() })),
	errors: { 403: "Not the app admin token." },
	handle: async ({ db, app, caller, body }) => {
		requireAdmin(caller);
		const found = await changeProfiles(
			db,
			app.id,
			body.list.map((item) => ({ userId: item.user_id, change: toProfileChange(item) })),
		);
		return {
			data: body.list.map((item, i) => ({
				user_id: item.user_id,
				success: found[i] === true,
				reason: found[i] ? "" : "user does not exist",
			})),
		};
	},
});
