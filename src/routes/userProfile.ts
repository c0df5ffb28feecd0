import { z } from "zod";
import { requireUser } from "../auth/identity";
import { changeProfiles, profileOf } from "../db/users";
import { badRequest, notFound } from "../http/envelope";
import { id } from "../http/ids";
import { avatar, nickName, profileFields, profileJson, profileSchema, toProfileChange } from "../users/profile";
import { type Context, endpoint } from "./contract";

export const userProfileGet = endpoint({
	methods: ["GET"],
	path: "/user/profile",
	tag: "Users",
	summary: "A user's profile",
	description:
		"Your own profile (an admin: with header `user_id`, or any user's with query `user_id`). With query `user_id` a user reads another user of the app: the public profile, without `private_info`.",
	access: "token",
	query: z.object({ user_id: id.optional().meta({ description: "Another user of the app (default: the caller)." }) }),
	data: profileSchema,
	errors: { 404: "No such user." },
	handle: async ({ db, app, caller, query }) => {
		let target: number;
		let withPrivate: boolean;
		if (caller.kind === "user") {
			target = query.user_id ?? caller.userId;
			withPrivate = target === caller.userId;
		} else {
			if (query.user_id === undefined) {
				throw badRequest('Query parameter "user_id" (or header "user_id") is required when calling with the admin token.');
			}
			[target, withPrivate] = [query.user_id, true];
		}
		const profile = await profileOf(db, app.id, target);
		if (!profile) throw notFound(`User ${target} does not exist.`);
		return { data: profileJson(profile, withPrivate) };
	},
});

/** Changes the caller's own profile (an admin: header `user_id`). */
async function changeOwn({ db, app, caller }: Context<"token">, change: Parameters<typeof toProfileChange>[0] & { avatar?: string }) {
	const me = requireUser(caller);
	const [found] = await changeProfiles(db, app.id, [
		{ userId: me.userId, change: { ...toProfileChange(change), ...(change.avatar === undefined ? {} : { avatar: change.avatar }) } },
	]);
	if (!found) throw notFound(`User ${me.userId} does not exist.`);
	return { data: true as const };
}

export const userProfileChange = endpoint({
	methods: ["POST", "PUT"],
	path: "/user/profile",
	tag: "Users",
	summary: "Change your profile",
	description: "Any subset of the fields; a field left out keeps its value. An admin changes a user's with header `user_id`.",
	access: "token",
	body: z.object(profileFields),
	data: z.literal(true),
	handle: (input) => changeOwn(input, input.body),
});

export const userNickname = endpoint({
	methods: ["POST", "PUT"],
	path: "/user/nickname",
	tag: "Users",
	summary: "Set your nick name",
	description: "The source service's query parameter `nick_name`.",
	access: "token",
	query: z.object({ nick_name: nickName }),
	data: z.literal(true),
	handle: (input) => changeOwn(input, { nick_name: input.query.nick_name }),
});

export const userAvatar = endpoint({
	methods: ["POST", "PUT"],
	path: "/user/avatar",
	tag: "Users",
	summary: "Set your avatar",
	description: 'An https URL (the avatar upload endpoint answers one), or "" for none.',
	access: "token",
	body: z.object({ avatar }),
	data: z.literal(true),
	handle: (input) => changeOwn(input, { avatar: input.body.avatar }),
});
