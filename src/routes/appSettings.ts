import { allowsPrivateCallbacks, callbackUrlRefusal, settingsChange, settingsJson, settingsSchema, toChange } from "../apps/settings";
import { requireAdmin } from "../auth/identity";
import { changeAppSettings } from "../db/apps";
import { forgetApp } from "../db/memo";
import { badRequest } from "../http/envelope";
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
		const settings = await changeAppSettings(db, app.id, {});
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
		"Any subset of the writable fields; answers the settings after the change. A bad value is 400 and changes nothing. Callback settings apply to every write that commits after this answer; the others at once on this instance and within 60 s everywhere.",
	access: "token",
	body: settingsChange,
	data: settingsSchema,
	errors: { ...errors, 400: "A value is out of its range, or a field is unknown." },
	handle: async ({ env, db, app, caller, body }) => {
		requireAdmin(caller);
		if (body.callback_url !== undefined) {
			const refusal = callbackUrlRefusal(body.callback_url, allowsPrivateCallbacks(env));
			if (refusal) throw badRequest(`Field "callback_url" ${refusal}.`);
		}
		const settings = await changeAppSettings(db, app.id, toChange(body));
		if (!settings) throw new Error("the app of a valid admin token was not found");
		forgetApp(app.key);
		return { data: settingsJson(settings) };
	},
});
