import { z } from "zod";
import { authenticate, requireAdmin } from "../auth/identity";
import { clock } from "../clock";
import { conflict } from "../http/envelope";
import { idOut } from "../http/ids";
import { passwordIterations } from "../settings";
import { password, registerUsers, username } from "../users/register";
import { endpoint } from "./contract";

export const userRegister = endpoint({
	methods: ["POST"],
	path: "/user/register/v2",
	tag: "Users",
	summary: "Register a user",
	description:
		"Needs the app admin token, unless the app allows open registration. The server allocates the user id; usernames are unique per app.",
	access: "app",
	optionalToken: true,
	body: z.object({ username, password }),
	data: z.object({ user_id: idOut, username: z.string() }),
	errors: { 403: "Not the admin token (and the app does not allow open registration).", 409: "The username is taken." },
	handle: async ({ request, env, db, app, body }) => {
		if (!app.openRegistration) requireAdmin(await authenticate(request, env, app, db));
		const [result] = await registerUsers(db, app.id, [body], passwordIterations(env), clock.now());
		if (!result?.success) throw conflict(`Username "${body.username}" is already taken.`);
		return { data: { user_id: result.user_id, username: result.username } };
	},
});
