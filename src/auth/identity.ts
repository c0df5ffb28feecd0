// Who is calling (docs/API.md "Apps, credentials and who is acting"): the tenant from `app_id`, the credential from
// `access-token`, and the acting identity from `user_id` / `group_id`.
import { z } from "zod";
import type { AppRecord } from "../db/apps";
import type { Database } from "../db/client";
import { accountKind, appByKey, existingUsers, refusedRecently, rememberRefused, standingOf } from "../db/memo";
import { badRequest, forbidden, notFound, unauthorized } from "../http/envelope";
import { id } from "../http/ids";
import type { ApiRequest } from "../http/request";
import { parse } from "../http/validate";
import { APP_KEY_PATTERN } from "../limits";
import { auditsAdminActing } from "../settings";
import { adminTokenMatches, hashAdminToken } from "./adminTokens";
import { looksLikeUserToken, verifyUserToken } from "./userTokens";

export type Caller =
	/**
	 * A user: by their own token (`expiresMs`: when it expires), or an admin
	 * acting as them with the `user_id` header (`expiresMs` null).
	 */
	| { kind: "user"; userId: number; deviceSn: number; viaAdmin: boolean; expiresMs: number | null }
	/** The app administrator (admin token, no acting header). */
	| { kind: "admin" }
	/** The app administrator acting as administrator of one group (header `group_id`). */
	| { kind: "groupAdmin"; groupId: number };

/** The app key (docs/API.md "Apps, credentials and who is acting"): the source service's AppIDs are strings such as "welovemaxim". */
export const appKey = z
	.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
	.regex(APP_KEY_PATTERN, { error: "must be 1-64 characters from A-Z, a-z, 0-9, _ and -" })
	.meta({ description: "The app's key (AppID): 1-64 characters from A-Z, a-z, 0-9, _ and -.", example: "welovemaxim" });

/** The headers of docs/API.md "Apps, credentials and who is acting", as /openapi.json describes them. */
export const appHeaders = z.object({ app_id: appKey });
export const tokenHeaders = z.object({
	app_id: appKey,
	"access-token": z.string().min(1).meta({ description: "An app admin token, or a user token from /token/*." }),
	user_id: id.optional().meta({ description: "Admin token only: act exactly as this user." }),
	group_id: id.optional().meta({ description: "Admin token only: act as administrator of this group." }),
});
const actingHeaders = tokenHeaders.pick({ user_id: true, group_id: true });

/** Parses `app_id` and loads the app (directory, then its database): 400 if missing or malformed, 401 if unknown. */
export async function resolveApp(request: ApiRequest, env: Env): Promise<AppRecord> {
	const header = request.headers.get("app_id");
	// The pattern alone decides; zod runs only to word the 400 (it cost ~3 % of a request's CPU).
	const app_id =
		header !== null && APP_KEY_PATTERN.test(header) ? header : parse(appHeaders, { app_id: header ?? undefined }, "header").app_id;
	const app = await appByKey(env, app_id);
	if (!app) throw unauthorized(`Unknown app_id ${app_id}.`);
	return app;
}

/** Who is calling `app` (whose database is `db`): its `access-token` and acting headers. */
export async function authenticate(request: ApiRequest, env: Env, app: AppRecord, db: Database): Promise<Caller> {
	const token = request.headers.get("access-token");
	if (!token) throw unauthorized('Header "access-token" is required.');
	const userIdHeader = request.headers.get("user_id");
	const groupIdHeader = request.headers.get("group_id");
	const acting: z.output<typeof actingHeaders> =
		userIdHeader === null && groupIdHeader === null
			? {}
			: parse(actingHeaders, { user_id: userIdHeader ?? undefined, group_id: groupIdHeader ?? undefined }, "header");

	if (looksLikeUserToken(token)) {
		const claims = await verifyUserToken(env.TOKEN_SIGNING_KEY, token);
		if (!claims || claims.appKey !== app.key) throw unauthorized("The access-token is invalid or expired.");
		if (acting.user_id !== undefined && acting.user_id !== claims.userId) {
			throw forbidden('A user token cannot act as another user (header "user_id").');
		}
		if (acting.group_id !== undefined) throw forbidden('A user token cannot act as a group administrator (header "group_id").');
		// A disabled or deleted user's tokens stop working (docs/API.md, "Moderation"): remembered per isolate for USER_TTL_MS.
		const standing = await standingOf(db, app.id, claims.userId);
		if (standing === "disabled") throw unauthorized("This user is disabled.");
		if (standing !== "active") throw unauthorized("The access-token is invalid or expired.");
		return { kind: "user", userId: claims.userId, deviceSn: claims.deviceSn, viaAdmin: false, expiresMs: claims.expiresMs };
	}

	if (!(await adminTokenMatches(token, app.adminTokenHash))) {
		const refusal = unauthorized("The access-token is invalid or expired.");
		const tokenHash = await hashAdminToken(token);
		if (refusedRecently(app.key, tokenHash)) throw refusal;
		// Perhaps a token rotated since this isolate last read the app.
		const fresh = await appByKey(env, app.key, { fresh: true });
		if (!fresh || !(await adminTokenMatches(token, fresh.adminTokenHash))) {
			rememberRefused(app.key, tokenHash);
			throw refusal;
		}
	}
	if (acting.user_id !== undefined && acting.group_id !== undefined) {
		throw badRequest('Headers "user_id" and "group_id" cannot be used together.');
	}
	if (acting.user_id !== undefined) {
		if (!(await existingUsers(db, app.id, [acting.user_id])).has(acting.user_id)) throw notFound(`User ${acting.user_id} does not exist.`);
		audit(request, env, app, { adminActingAs: acting.user_id });
		return { kind: "user", userId: acting.user_id, deviceSn: 0, viaAdmin: true, expiresMs: null };
	}
	if (acting.group_id !== undefined) {
		if ((await accountKind(db, app.id, acting.group_id)) !== "group") throw notFound(`Group ${acting.group_id} does not exist.`);
		audit(request, env, app, { adminActingForGroup: acting.group_id });
		return { kind: "groupAdmin", groupId: acting.group_id };
	}
	return { kind: "admin" };
}

/** Who the admin token acted for, logged where the deployment asks (AUDIT_ADMIN_ACTING). */
function audit(request: ApiRequest, env: Env, app: AppRecord, actingFor: { adminActingAs: number } | { adminActingForGroup: number }) {
	if (auditsAdminActing(env)) console.log(JSON.stringify({ requestId: request.requestId, appId: app.key, ...actingFor }));
}

export function requireAdmin(caller: Caller): void {
	if (caller.kind !== "admin") throw forbidden("This call needs the app admin token.");
}

/** The current user, for endpoints that act on "my" conversations. */
export function requireUser(caller: Caller): Extract<Caller, { kind: "user" }> {
	if (caller.kind !== "user") throw badRequest('Header "user_id" is required when calling with the admin token.');
	return caller;
}
