import { secretFollowingProblem, settingsChange, settingsJson, settingsSchema, toChange } from "../apps/settings";
import { requireAdmin } from "../auth/identity";
import { callbackUrlRefusal } from "../callbacks/destination";
import { appSettings, changeAppSettings } from "../db/apps";
import { existingUsers, forgetApp } from "../db/memo";
import { badRequest, conflict } from "../http/envelope";
import { allowsPrivateCallbacks } from "../settings";
import { endpoint } from "./contract";

const errors = { 403: "Not the app admin token." };

export const appSettingsGet = endpoint({
	methods: ["GET"],
	path: "/app/settings",
	tag: "App",
	summary: "The app's settings (admin)",
	description:
		"Recall window, open registration, message callbacks and the send rate. The callback secret is never returned: `callback_secret_set` says whether one is set.",
	access: "token",
	data: settingsSchema,
	errors,
	handle: async ({ db, app, caller }) => {
		requireAdmin(caller);
		const settings = await appSettings(db, app.id);
		if (!settings) throw new Error("the app of a valid admin token was not found");
		return { data: settingsJson(settings) };
	},
});

export const appSettingsChange = endpoint({
	methods: ["POST", "PUT"],
	path: "/app/settings",
	tag: "App",
	summary: "Change the app's settings (admin)",
	description:
		"Any subset of the writable fields; answers the settings after the change. A bad value is 400 naming the rule it broke and changes nothing. Callback settings apply to every write that commits after this answer; the others at once on this instance and within 60 s everywhere.",
	access: "token",
	body: settingsChange,
	data: settingsSchema,
	errors: {
		...errors,
		400: "A value breaks its rule, a field is unknown, or callback_url moves to another host without callback_secret.",
		409: "The callback URL or secret changed meanwhile: read the settings and try again.",
	},
	handle: async ({ env, db, app, caller, body }) => {
		requireAdmin(caller);
		if (body.callback_url !== undefined) {
			const refusal = callbackUrlRefusal(body.callback_url, allowsPrivateCallbacks(env));
			if (refusal) throw badRequest(`Field "callback_url" ${refusal}.`);
		}
		if (body.callback_user_ids !== undefined) {
			const users = await existingUsers(db, app.id, body.callback_user_ids);
			const stranger = body.callback_user_ids.find((userId) => !users.has(userId));
			if (stranger !== undefined) throw badRequest(`Field "callback_user_ids" names ${stranger}, which is not a user of this app.`);
		}
		// A new URL is checked against the one it replaces, and written only if that is still the one.
		const read = body.callback_url === undefined ? undefined : await appSettings(db, app.id);
		const following = read && secretFollowingProblem(read, body);
		if (following) throw badRequest(following);
		const settings = await changeAppSettings(db, app.id, toChange(body), read);
		if (!settings) throw conflict("The callback URL or secret changed meanwhile: read the settings and try again.");
		forgetApp(app.key);
		return { data: settingsJson(settings) };
	},
});
