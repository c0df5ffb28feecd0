// App settings (docs/API.md "Message callbacks"): what may be written, what is answered, and which
// callback URLs a deployment accepts.
import { z } from "zod";
import {
	CALLBACK_URL_PATTERN,
	callbackHost,
	callbackSecretProblem,
	callbackUrlProblem,
	MAX_CALLBACK_SECRET,
	MAX_CALLBACK_URL,
	MIN_CALLBACK_SECRET,
} from "../callbacks/destination";
import type { AppSettings, SettingsChange } from "../db/apps";
import { CALLBACK_EVENTS } from "../db/callbacks";
import { id, idOut, integerIn } from "../http/ids";
import { codePointLength } from "../http/validate";
import { DEFAULT_CALLBACK_ATTEMPTS, MAX_CALLBACK_ATTEMPTS, MAX_CALLBACK_USER_IDS, MAX_SEND_RATE_PER_MIN } from "../limits";

const MAX_RECALL_WINDOW_S = 365 * 24 * 3600;

const callbackEvents = z
	.array(z.enum(CALLBACK_EVENTS as [string, ...string[]]), { error: "must be an array of event names" })
	.max(CALLBACK_EVENTS.length)
	.refine((events) => new Set(events).size === events.length, { message: "must not name an event twice" })
	.meta({
		uniqueItems: true,
		description: `A subset of ${CALLBACK_EVENTS.join(", ")}; default CHAT, GROUPCHAT, APPEND, REPLACE (the source service's four).`,
	});

/** A string, refused with the rule `problem` names (the rule it broke, not only its type). */
const ruledString = (problem: (s: string) => string | null, meta: Record<string, unknown>) =>
	z
		.string({ error: "must be a string" })
		.superRefine((value, ctx) => {
			const broken = problem(value);
			if (broken) ctx.addIssue({ code: "custom", message: broken });
		})
		.meta(meta);

const callbackUrl = ruledString(callbackUrlProblem, {
	maxLength: MAX_CALLBACK_URL,
	pattern: CALLBACK_URL_PATTERN,
	description: `Where callbacks are POSTed: an http(s) URL of at most ${MAX_CALLBACK_URL} characters, or "" for none. Moving it to another host while a secret is set needs \`callback_secret\` in the same request.`,
});

const callbackSecret = ruledString(callbackSecretProblem, {
	pattern: `^([!-~]{${MIN_CALLBACK_SECRET},${MAX_CALLBACK_SECRET}})?$`,
	description: `Write-only: signs callbacks; never returned. ${MIN_CALLBACK_SECRET}-${MAX_CALLBACK_SECRET} printable ASCII characters (! to ~), or "" to remove it.`,
});

const callbackUserIds = z
	.array(id, { error: "must be an array of user ids" })
	.max(MAX_CALLBACK_USER_IDS, { message: `must name at most ${MAX_CALLBACK_USER_IDS} users` })
	.refine((ids) => new Set(ids).size === ids.length, { message: "must not name a user twice" })
	.meta({
		uniqueItems: true,
		description: `At most ${MAX_CALLBACK_USER_IDS} users: only writes with one of them among their parties are called back (a one-to-one message from or to one, a group message in a group one of them is a member of, and the edits, recalls and reads of those). [] (the default): every write.`,
	});

/** The writable fields; any subset. Unknown fields are refused, so a misspelt setting is not silently ignored. */
export const settingsChange = z.strictObject({
	name: z
		.string({ error: "must be a string" })
		.refine((s) => codePointLength(s) >= 1 && codePointLength(s) <= 100, { message: "must be 1 to 100 characters" })
		.meta({ minLength: 1, maxLength: 100 })
		.optional(),
	recall_window_s: integerIn(0, MAX_RECALL_WINDOW_S, "Seconds within which a sender may recall a message.").optional(),
	open_registration: z.boolean({ error: "must be true or false" }).optional(),
	callback_url: callbackUrl.optional(),
	callback_secret: callbackSecret.optional(),
	callback_user_ids: callbackUserIds.optional(),
	callback_events: callbackEvents.optional(),
	callback_max_attempts: integerIn(
		1,
		MAX_CALLBACK_ATTEMPTS,
		`Attempts before a callback is dead-lettered (default ${DEFAULT_CALLBACK_ATTEMPTS}).`,
	).optional(),
	send_rate_per_min: integerIn(0, MAX_SEND_RATE_PER_MIN, "Sends per sender per minute; 0: no limit.").optional(),
});

export const settingsSchema = z.object({
	app_id: z.string().meta({ description: "The app key." }),
	name: z.string(),
	recall_window_s: z.int(),
	open_registration: z.boolean(),
	callback_url: z.string(),
	callback_secret_set: z.boolean().meta({ description: "Whether a callback secret is set (the secret itself is never returned)." }),
	callback_events: z.array(z.enum(CALLBACK_EVENTS as [string, ...string[]])),
	callback_max_attempts: z.int(),
	send_rate_per_min: z.int(),
	callback_user_ids: z.array(idOut),
});

export function settingsJson(s: AppSettings): z.input<typeof settingsSchema> {
	return {
		app_id: s.key,
		name: s.name,
		recall_window_s: s.recallWindowS,
		open_registration: s.openRegistration,
		callback_url: s.callbackUrl,
		callback_secret_set: s.callbackSecret !== "",
		callback_events: s.callbackEvents === "" ? [] : s.callbackEvents.split(","),
		callback_max_attempts: s.callbackMaxAttempts,
		send_rate_per_min: s.sendRatePerMin,
		callback_user_ids: JSON.parse(s.callbackUserIds) as number[],
	};
}

export function toChange(body: z.output<typeof settingsChange>): SettingsChange {
	const change: SettingsChange = {};
	if (body.name !== undefined) change.name = body.name;
	if (body.recall_window_s !== undefined) change.recallWindowS = body.recall_window_s;
	if (body.open_registration !== undefined) change.openRegistration = body.open_registration;
	if (body.callback_url !== undefined) change.callbackUrl = body.callback_url;
	if (body.callback_secret !== undefined) change.callbackSecret = body.callback_secret;
	if (body.callback_events !== undefined) change.callbackEvents = body.callback_events.join(",");
	if (body.callback_max_attempts !== undefined) change.callbackMaxAttempts = body.callback_max_attempts;
	if (body.send_rate_per_min !== undefined) change.sendRatePerMin = body.send_rate_per_min;
	if (body.callback_user_ids !== undefined) change.callbackUserIds = JSON.stringify(body.callback_user_ids);
	return change;
}

/**
 * A change of callback_url to another host, while a secret is set, must name
 * callback_secret in the same request (a new one, or ""): a secret never
 * follows the URL to a host chosen later (docs/API.md, "Message callbacks").
 */
export function secretFollowingProblem(
	current: Pick<AppSettings, "callbackUrl" | "callbackSecret">,
	body: z.output<typeof settingsChange>,
) {
	if (body.callback_url === undefined || body.callback_url === "" || body.callback_secret !== undefined) return null;
	if (current.callbackSecret === "" || callbackHost(body.callback_url) === callbackHost(current.callbackUrl)) return null;
	return 'Field "callback_secret" is required when "callback_url" moves to another host (a new secret, or "" for none): a secret never follows the URL to a host chosen later.';
}
