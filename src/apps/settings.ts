// App settings (SPEC §6.1): what may be written, what is answered, and which
// callback URLs a deployment accepts.
import { z } from "zod";
import type { AppSettings, SettingsChange } from "../db/apps";
import { CALLBACK_EVENTS } from "../db/callbacks";
import { integerIn } from "../http/ids";
import { codePointLength } from "../http/validate";
import {
	DEFAULT_CALLBACK_ATTEMPTS,
	MAX_CALLBACK_ATTEMPTS,
	MAX_CALLBACK_SECRET,
	MAX_CALLBACK_URL,
	MAX_SEND_RATE_PER_MIN,
	MIN_CALLBACK_SECRET,
} from "../limits";

const MAX_RECALL_WINDOW_S = 365 * 24 * 3600;

const callbackEvents = z
	.array(z.enum(CALLBACK_EVENTS as [string, ...string[]]), { error: "must be an array of event names" })
	.max(CALLBACK_EVENTS.length)
	.refine((events) => new Set(events).size === events.length, { message: "must not name an event twice" })
	.meta({
		uniqueItems: true,
		description: `A subset of ${CALLBACK_EVENTS.join(", ")}; default CHAT, GROUPCHAT, APPEND, REPLACE (the source service's four).`,
	});

const octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const port = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";
const host = `(${octet}(\\.${octet}){3}|([A-Za-z0-9-]{1,63}\\.)*[A-Za-z][A-Za-z0-9-]{0,62})`;
/** What a callback URL looks like (a host name or an IPv4 address; no IPv6 literal, no user info); the URL parser has the last word. */
const CALLBACK_URL_PATTERN = new RegExp(`^(|https?://${host}(:${port})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?)$`);

const callbackUrl = z
	.string({ error: "must be a string" })
	.max(MAX_CALLBACK_URL)
	.regex(CALLBACK_URL_PATTERN, { message: 'must be an http or https URL, or "" for none' })
	.refine((u) => u === "" || isHttpUrl(u), { message: 'must be an http or https URL, or "" for none' })
	.meta({ description: `Where callbacks are POSTed: an http(s) URL of at most ${MAX_CALLBACK_URL} characters, or "" for none.` });

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
	callback_secret: z
		.string({ error: "must be a string" })
		.min(MIN_CALLBACK_SECRET)
		.max(MAX_CALLBACK_SECRET)
		.meta({ description: "Write-only: signs callbacks; never returned." })
		.optional(),
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
	return change;
}

function isHttpUrl(text: string): boolean {
	try {
		const url = new URL(text);
		return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" && url.username === "" && url.password === "";
	} catch {
		return false;
	}
}

/**
 * Why a deployment refuses this callback URL (null: it does not). Unless the
 * deployment allows them (local dev does), only https, and no host in a
 * private, loopback or link-local range (SPEC §6.1).
 */
export function callbackUrlRefusal(text: string, allowPrivate: boolean): string | null {
	if (text === "" || allowPrivate) return null;
	const url = new URL(text);
	if (url.protocol !== "https:") return "must be an https URL on this deployment";
	if (isPrivateHost(url.hostname)) return "must not name a private, loopback or link-local address on this deployment";
	return null;
}

export function isPrivateHost(hostname: string): boolean {
	const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
	if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
	const v4 = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
	if (v4) {
		const [a = 0, b = 0] = v4.slice(1, 3).map(Number);
		return (
			a === 0 ||
			a === 10 ||
			a === 127 ||
			(a === 100 && b >= 64 && b <= 127) ||
			(a === 169 && b === 254) ||
			(a === 172 && b >= 16 && b <= 31) ||
			(a === 192 && b === 168)
		);
	}
	if (host.includes(":")) {
		if (host === "::" || host === "::1") return true;
		if (host.startsWith("::ffff:")) return true; // IPv4-mapped: refuse rather than parse
		return /^f[cd]/.test(host) || /^fe[89ab]/.test(host);
	}
	return false;
}

/** Whether this deployment allows plain-http and private callback URLs (wrangler.toml var; local dev sets it). */
export const allowsPrivateCallbacks = (env: Env) => env.CALLBACK_ALLOW_PRIVATE === "true";
