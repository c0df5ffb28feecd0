// npm run app:settings -- --app KEY [--callback-url URL] [--callback-secret S]
//   [--callback-events CHAT,GROUPCHAT,...] [--callback-max-attempts N] [--send-rate-per-min N]
//   [--recall-window-s N] [--open-registration true|false] [--name NAME] [--remote] [--persist-to DIR]
// Changes an app's settings (SPEC §6.1) in the database itself, for operators,
// and prints one JSON line: the settings after the change, as GET /app/settings
// answers them (the secret never). With no field given it only prints them.
// The same rules as POST /app/settings; with --remote, callback URLs must be
// https and public unless --allow-private (as a deployment refuses them).
import { APP_KEY, d1Rows, localStateArgs, option, placementOf, sqlString } from "./wrangler.mjs";

const argv = process.argv.slice(2);
const key = option(argv, "app");
const usage =
	"usage: npm run app:settings -- --app KEY [--callback-url URL] [--callback-secret S] [--callback-events A,B] [--callback-max-attempts N] [--send-rate-per-min N] [--recall-window-s N] [--open-registration true|false] [--name NAME] [--remote]";
if (typeof key !== "string" || !APP_KEY.test(key)) fail(usage, 2);
const remote = option(argv, "remote") === true;
const allowPrivate = !remote || option(argv, "allow-private") === true;
const EVENTS = ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"];

const set = [];
const text = (name) => {
	const value = option(argv, name);
	if (value === true) fail(`--${name} needs a value`);
	return value;
};
const integer = (name, min, max) => {
	const value = text(name);
	if (value === undefined) return undefined;
	if (!/^-?[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) fail(`--${name} must be an integer from ${min} to ${max}`);
	return Number(value);
};

const url = text("callback-url");
if (url !== undefined) {
	let parsed;
	try {
		parsed = url === "" ? null : new URL(url);
	} catch {}
	const bad =
		!parsed || !["http:", "https:"].includes(parsed.protocol) || parsed.username || parsed.password || parsed.hostname.startsWith("[");
	if (url !== "" && (bad || url.length > 2048)) {
		fail('--callback-url must be an http or https URL (a host name or IPv4 address) of at most 2048 characters, or "" for none');
	}
	if (parsed && !allowPrivate && (parsed.protocol !== "https:" || isPrivateHost(parsed.hostname))) {
		fail("--callback-url must be https and not a private, loopback or link-local address for a deployment (--allow-private to override)");
	}
	set.push(`callback_url = ${sqlString(url)}`);
}
const secret = text("callback-secret");
if (secret !== undefined) {
	if (secret.length < 16 || secret.length > 256) fail("--callback-secret must be 16 to 256 characters");
	set.push(`callback_secret = ${sqlString(secret)}`);
}
const events = text("callback-events");
if (events !== undefined) {
	const list = events === "" ? [] : events.split(",");
	if (list.some((e) => !EVENTS.includes(e)) || new Set(list).size !== list.length)
		fail(`--callback-events must be distinct names from ${EVENTS.join(",")}`);
	set.push(`callback_events = ${sqlString(list.join(","))}`);
}
for (const [name, column, min, max] of [
	["callback-max-attempts", "callback_max_attempts", 1, 20],
	["send-rate-per-min", "send_rate_per_min", 0, 100_000],
	["recall-window-s", "recall_window_s", 0, 365 * 24 * 3600],
]) {
	const value = integer(name, min, max);
	if (value !== undefined) set.push(`${column} = ${value}`);
}
const open = text("open-registration");
if (open !== undefined) {
	if (open !== "true" && open !== "false") fail("--open-registration must be true or false");
	set.push(`open_registration = ${open === "true" ? 1 : 0}`);
}
const name = text("name");
if (name !== undefined) {
	if ([...name].length < 1 || [...name].length > 100) fail("--name must be 1 to 100 characters");
	set.push(`name = ${sqlString(name)}`);
}

const columns =
	"key, name, recall_window_s, open_registration, callback_url, callback_secret != '' AS secret_set, callback_events, callback_max_attempts, send_rate_per_min";
const sql =
	set.length > 0
		? `UPDATE apps SET ${set.join(", ")} WHERE key = ${sqlString(key)} RETURNING ${columns}`
		: `SELECT ${columns} FROM apps WHERE key = ${sqlString(key)}`;
const target = remote ? ["--remote"] : ["--local", ...localStateArgs(argv)];
// The app's row is in the database the directory names.
const placement = placementOf(key, target);
const row = placement && d1Rows(placement.database_binding, target, sql)[0];
if (!row) fail(`no app ${key} in that database`, 1);
console.log(
	JSON.stringify({
		app_id: row.key,
		name: row.name,
		recall_window_s: row.recall_window_s,
		open_registration: row.open_registration === 1,
		callback_url: row.callback_url,
		callback_secret_set: row.secret_set === 1,
		callback_events: row.callback_events === "" ? [] : row.callback_events.split(","),
		callback_max_attempts: row.callback_max_attempts,
		send_rate_per_min: row.send_rate_per_min,
	}),
);

function fail(message, code = 2) {
	console.error(message);
	process.exit(code);
}

/** The ranges src/apps/settings.ts refuses for a deployment. */
function isPrivateHost(hostname) {
	const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
	if (host === "localhost" || /\.(localhost|local|internal)$/.test(host)) return true;
	const v4 = host.match(/^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/);
	if (v4) {
		const [a, b] = [Number(v4[1]), Number(v4[2])];
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
	return (
		host.includes(":") && (host === "::" || host === "::1" || host.startsWith("::ffff:") || /^f[cd]/.test(host) || /^fe[89ab]/.test(host))
	);
}
