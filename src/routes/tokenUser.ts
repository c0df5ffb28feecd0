import { z } from "zod";
import { login } from "../auth/login";
import { findUserByName } from "../db/users";
import { deviceSn } from "../http/ids";
import { endpoint } from "./contract";
import { tokenData } from "./tokens";

export const tokenUser = endpoint({
	methods: ["POST"],
	path: "/token/user",
	tag: "Tokens",
	summary: "Log in with username and password",
	description: "No access-token needed. A wrong password and an unknown user get the same 401. The token is valid 7 days.",
	access: "app",
	body: z.object({
		name: z.string({ error: "must be a string" }),
		password: z.string({ error: "must be a string" }),
		device_sn: deviceSn.optional(),
	}),
	data: tokenData,
	errors: { 429: "More than 10 failed logins for this account within a minute: retry after Retry-After seconds." },
	handle: async ({ request, env, ctx, db, app, body }) => {
		const user = await findUserByName(db, app.id, body.name);
		return {
			data: await login({ env, ctx, app, requestId: request.requestId }, user, `name:${body.name}`, body.password, body.device_sn ?? 0),
		};
	},
});
