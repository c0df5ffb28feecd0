import { z } from "zod";
import { requireAdmin } from "../auth/identity";
import { issueUserToken } from "../auth/userTokens";
import { clock } from "../clock";
import { standingOf } from "../db/memo";
import { forbidden, notFound } from "../http/envelope";
import { deviceSn, id, integerIn } from "../http/ids";
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S } from "../limits";
import { endpoint } from "./contract";
import { tokenData } from "./tokens";

export const tokenIssue = endpoint({
	methods: ["POST"],
	path: "/token/issue",
	tag: "Tokens",
	summary: "Mint a user token (admin)",
	description: "Admin only: a token for a user without their password (bots, server-side clients).",
	access: "token",
	body: z.object({
		user_id: id,
		device_sn: deviceSn.optional(),
		ttl_s: integerIn(1, MAX_TOKEN_TTL_S, `Seconds the token is valid: 1 to ${MAX_TOKEN_TTL_S} (30 days); default 7 days.`).optional(),
	}),
	data: tokenData,
	errors: { 403: "The user is disabled.", 404: "The user does not exist (or was deleted)." },
	handle: async ({ env, db, app, caller, body }) => {
		requireAdmin(caller);
		const standing = await standingOf(db, app.id, body.user_id);
		if (standing === undefined || standing === "deleted") throw notFound(`User ${body.user_id} does not exist.`);
		if (standing === "disabled") throw forbidden(`User ${body.user_id} is disabled.`);
		const { token, expire } = await issueUserToken(
			env.TOKEN_SIGNING_KEY,
			{ appKey: app.key, userId: body.user_id, deviceSn: body.device_sn ?? 0 },
			body.ttl_s ?? DEFAULT_TOKEN_TTL_S,
			clock.now(),
		);
		return { data: { token, user_id: body.user_id, expire } };
	},
});
