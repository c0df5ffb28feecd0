import { z } from "zod";
import { requireAdmin, requireUser } from "../auth/identity";
import { verifyPassword } from "../auth/passwords";
import { clock } from "../clock";
import { forgetUsers, standingOf } from "../db/memo";
import { isOnline } from "../db/presence";
import { accountsOf, findUserById, markDeleted, setDisabled } from "../db/users";
import { badRequest, notFound, unauthorized } from "../http/envelope";
import { id } from "../http/ids";
import { endChannelsOf } from "../users/moderation";
import { endpoint } from "./contract";

const userList = z.object({
	list: z
		.array(id)
		.min(1, { message: "must name at least one user" })
		.max(100, { message: "must name at most 100 users" })
		.refine((ids) => new Set(ids).size === ids.length, { message: "must not name a user twice" })
		.meta({ uniqueItems: true, description: "The users (at most 100, each once)." }),
});

/** Disables or enables every user of the list, or none: an unknown or deleted id is 404 and changes nothing. */
function moderation(path: string, disabled: boolean) {
	return endpoint({
		methods: ["PUT", "POST"],
		path,
		tag: "Users",
		summary: disabled ? "Disable users (admin)" : "Enable users (admin)",
		description: disabled
			? "A disabled user cannot log in (403), their tokens stop working (401) within 30 s in every isolate, and their open channels close at once (4003). Their messages stay; others may still message them. Disabling twice is 200."
			: "Undoes a disable: the user may log in again (tokens issued before still work until they expire). Enabling an enabled user is 200.",
		access: "token",
		body: userList,
		data: z.literal(true),
		errors: { 404: "A listed user does not exist (or was deleted); nothing changed." },
		handle: async ({ env, db, app, caller, body }) => {
			requireAdmin(caller);
			// Checked first (from D1, not this isolate's memory), so that a refusal changes nothing.
			const found = await accountsOf(db, app.id, body.list);
			const missing = body.list.find((userId) => found.get(userId)?.kind !== "user" || found.get(userId)?.standing === "deleted");
			if (missing !== undefined) throw notFound(`User ${missing} does not exist.`);
			await setDisabled(db, app.id, body.list, disabled);
			if (disabled) await endChannelsOf(env, app.id, body.list);
			else forgetUsers(app.id, body.list);
			return { data: true as const };
		},
	});
}

export const userDisable = moderation("/user/disable", true);
export const userEnable = moderation("/user/enable", false);

export const userDelete = endpoint({
	methods: ["POST", "DELETE"],
	path: "/user/delete",
	tag: "Users",
	summary: "Delete an account",
	description:
		"A user deletes their own account with their `password`; an admin deletes any with header `user_id` (no password). The account can no longer log in, act or be messaged (404 as a target); its tokens stop working and its channels close; its sent messages stay in others' history, and its id and username are never reused. Group memberships stay until an owner or admin kicks it.",
	access: "token",
	body: z.object({ password: z.string().max(128).optional().meta({ description: "Required with a user token." }) }),
	data: z.literal(true),
	errors: { 401: "The password is wrong.", 404: "No such user (or already deleted)." },
	handle: async ({ env, db, app, caller, body }) => {
		const me = requireUser(caller);
		if (!me.viaAdmin) {
			if (body.password === undefined) throw badRequest('Field "password" is required to delete your own account.');
			const user = await findUserById(db, app.id, me.userId);
			if (!user || !(await verifyPassword(body.password, user.passwordHash))) throw unauthorized("The password is incorrect.");
		}
		if (!(await markDeleted(db, app.id, me.userId, clock.now()))) throw notFound(`User ${me.userId} does not exist.`);
		await endChannelsOf(env, app.id, [me.userId]);
		return { data: true as const };
	},
});

export const userOnlineStatus = endpoint({
	methods: ["GET"],
	path: "/user/online_status",
	tag: "Users",
	summary: "Whether a user is online",
	description: "Whether the caller (an admin: the user of header `user_id`) has an open realtime channel now.",
	access: "token",
	data: z.object({ online: z.boolean().meta({ description: "An open realtime channel now." }) }),
	handle: async ({ db, app, caller }) => {
		const me = requireUser(caller);
		if ((await standingOf(db, app.id, me.userId)) === "deleted") throw notFound(`User ${me.userId} does not exist.`);
		return { data: { online: await isOnline(db, app.id, me.userId) } };
	},
});
