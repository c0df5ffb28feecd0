// User profiles (docs/API.md, "Profiles"): the texts a user shows, their rules,
// and who sees what. The source service's fields and shapes.
import { z } from "zod";
import type { Profile, ProfileChange } from "../db/users";
import { idOut } from "../http/ids";
import { codePointLength, hasUnsafeNameCharacter, NO_UNSAFE_CHARACTER_PATTERN, UNSAFE_NAME_RULE } from "../http/validate";
import { MAX_AVATAR_URL, MAX_DESCRIPTION, MAX_INFO, MAX_NICK_NAME } from "../limits";

/** A profile text: at most `max` characters, no control or bidirectional control characters (as usernames). */
const profileText = (max: number, description: string) =>
	z
		.string({ error: "must be a string" })
		.refine((s) => codePointLength(s) <= max, { message: `must be at most ${max} characters` })
		.refine((s) => !hasUnsafeNameCharacter(s), { message: UNSAFE_NAME_RULE })
		.meta({ maxLength: max, pattern: NO_UNSAFE_CHARACTER_PATTERN, description: `${description} At most ${max} characters; "" clears it.` });

export const nickName = profileText(MAX_NICK_NAME, "The name shown for the user.");

/** An avatar: an https URL (the file endpoints answer one), or "" for none. */
export const avatar = z
	.string({ error: "must be a string" })
	.max(MAX_AVATAR_URL, { message: `must be at most ${MAX_AVATAR_URL} characters` })
	.refine((s) => s === "" || isHttpsUrl(s), { message: 'must be an https URL, or "" for none' })
	.meta({
		maxLength: MAX_AVATAR_URL,
		pattern: "^(|https://[a-z][a-z0-9-]{0,30}(\\.[a-z][a-z0-9-]{0,30})+(/[A-Za-z0-9._~%/-]*)?)$",
		description: 'The avatar\'s URL: https, or "" for none.',
	});

function isHttpsUrl(text: string): boolean {
	try {
		const url = new URL(text);
		return url.protocol === "https:" && url.hostname !== "" && url.username === "" && url.password === "";
	} catch {
		return false;
	}
}

/** The fields a user may change (any subset). */
export const profileFields = {
	nick_name: nickName.optional(),
	description: profileText(MAX_DESCRIPTION, "About the user.").optional(),
	public_info: profileText(MAX_INFO, "Shown to every user of the app (e.g. JSON of the app's own).").optional(),
	private_info: profileText(MAX_INFO, "Shown only to the user and admins.").optional(),
};

export function toProfileChange(body: {
	nick_name?: string;
	description?: string;
	public_info?: string;
	private_info?: string;
}): ProfileChange {
	const change: ProfileChange = {};
	if (body.nick_name !== undefined) change.nickName = body.nick_name;
	if (body.description !== undefined) change.description = body.description;
	if (body.public_info !== undefined) change.publicInfo = body.public_info;
	if (body.private_info !== undefined) change.privateInfo = body.private_info;
	return change;
}

/** The source service's profile shape; `private_info` only for the user and admins, `email` and `mobile` always "". */
export const profileSchema = z.object({
	user_id: idOut,
	username: z.string(),
	nick_name: z.string(),
	avatar: z.string(),
	description: z.string(),
	public_info: z.string(),
	private_info: z.string().optional().meta({ description: "Only to the user and admins." }),
	email: z.string().meta({ description: 'Always "": this service keeps no email.' }),
	mobile: z.string().meta({ description: 'Always "": this service keeps no phone number.' }),
});

export function profileJson(p: Profile, withPrivate: boolean): z.input<typeof profileSchema> {
	return {
		user_id: p.userId,
		username: p.username,
		nick_name: p.nickName,
		avatar: p.avatar,
		description: p.description,
		public_info: p.publicInfo,
		...(withPrivate ? { private_info: p.privateInfo } : {}),
		email: "",
		mobile: "",
	};
}
