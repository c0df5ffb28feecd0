import { z } from "zod";
import { login } from "../auth/login";
import { findUserById } from "../db/users";
import { deviceSn, id } from "../http/ids";
import { endpoint } from "./contract";
import { tokenData } from "./tokens";

export const tokenId = endpoint({
	methods: ["POST"],
	path: "/token/id",
	tag: "Tokens",
	summary: "Log in with user id and password",
	description: "No access-token needed. A wrong password and an unknown user get the same 401. The token is valid 7 days.",
	access: "app",
	body: z.object({ user_id: id, password: z.string({ error: "must be a string" }), device_sn: deviceSn.optional() }),
	data: tokenData,
	errors: { 429: "More than 10 failed logins for this account within a minute: retry after Retry-After seconds." },
	handle: async ({ request, env, ctx, db, app, body }) => {
		const user = await findUserById(db, app.id, body.user_id);
		return {
			data: await login({ env, ctx, app, requestId: request.requestId }, user, `user:${body.user_id}`, body.password, body.device_sn ?? 0),
		};
	},
});
