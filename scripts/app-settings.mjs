// npm run app:settings -- --app KEY [--callback-url URL] [--callback-secret S]
//   [--callback-events CHAT,GROUPCHAT,...] [--callback-user-ids 12,34] [--callback-max-attempts N]
//   [--send-rate-per-min N] [--recall-window-s N] [--open-registration true|false] [--name NAME]
//   [--remote] [--persist-to DIR]
// Changes an app's settings (docs/OPERATIONS.md) in the database itself, for
// operators, and prints one JSON line: the settings after the change, as GET /app/settings
// answers them (the secret never). With no field given it only prints them.
// The same rules as POST /app/settings (the URL and secret rules are the service's own
// module); with --remote, callback URLs must be https and public unless --allow-private
// (as a deployment refuses them).
import { callbackHost, callbackSecretProblem, callbackUrlProblem, callbackUrlRefusal } from "../src/callbacks/destination.ts";
import { LOCAL_STATE_FLAGS, parseCommand, step, usageError } from "./cli.mjs";
import { APP_KEY, d1Rows, placementOf, sqlString, target } from "./wrangler.mjs";

const EVENTS = ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"];
const command = {
	usage: "usage: npm run app:settings -- --app KEY [--callback-url URL] [--callback-secret S] [...] [--remote] [--persist-to DIR]",
	summary:
		"Changes an app's settings in its database and prints them, as GET /app/settings answers them (the secret never). With no setting given it only prints them.",
	flags: {
		app: { type: "string", value: "KEY", help: "The app (its app_id). Required." },
		"callback-url": { type: "string", value: "URL", help: 'Where message callbacks are POSTed; "" turns them off.' },
		"callback-secret": {
			type: "string",
			value: "S",
			help: 'The signing secret (printable ASCII); "" for none. Required when the URL moves to another host.',
		},
		"callback-events": {
			type: "string",
			value: "A,B",
			help: `Which callbacks: comma-separated from ${EVENTS.join(",")} (default: the first four); "" for none.`,
		},
		"callback-user-ids": {
			type: "string",
			value: "12,34",
			help: 'Only writes with one of these users among their parties (at most 100); "" for every write.',
		},
		"callback-max-attempts": { type: "string", value: "N", help: "Attempts before a callback is dead-lettered (1-20)." },
		"send-rate-per-min": { type: "string", value: "N", help: "Messages a user may send per minute (0: no limit; up to 100000)." },
		"recall-window-s": { type: "string", value: "N", help: "Seconds a sender may recall a message." },
		"open-registration": { type: "string", value: "true|false", help: "Whether anyone may register users without the admin token." },
		name: { type: "string", value: "NAME", help: "The app's name (1-100 characters)." },
		"allow-private": { type: "boolean", help: "With --remote: accept an http or private callback URL (deployments refuse them)." },
		...LOCAL_STATE_FLAGS,
	},
	notes: 'The same rules as POST /app/settings (docs/CALLBACKS.md, docs/API.md "Message callbacks").',
};
const flags = parseCommand(command);
const key = flags.app;
if (typeof key !== "string" || !APP_KEY.test(key)) fail("--app KEY is required (1-64 of A-Z a-z 0-9 _ -)");
const remote = flags.remote === true;
const allowPrivate = !remote || flags["allow-private"] === true;

const set = [];
const text = (name) => flags[name];
const integer = (name, min, max) => {
	const value = text(name);
	if (value === undefined) return undefined;
	if (!/^-?[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) fail(`--${name} must be an integer from ${min} to ${max}`);
	return Number(value);
};

const url = text("callback-url");
if (url !== undefined) {
	const problem = callbackUrlProblem(url) ?? callbackUrlRefusal(url, allowPrivate);
	if (problem) fail(`--callback-url ${problem}${remote && !allowPrivate ? " (--allow-private to override)" : ""}`);
	set.push(`callback_url = ${sqlString(url)}`);
}
const secret = text("callback-secret");
if (secret !== undefined) {
	const problem = callbackSecretProblem(secret);
	if (problem) fail(`--callback-secret ${problem}`);
	set.push(`callback_secret = ${sqlString(secret)}`);
}
const userIds = text("callback-user-ids");
let listed = [];
if (userIds !== undefined) {
	listed = userIds === "" ? [] : userIds.split(",");
	if (
		listed.length > 100 ||
		listed.some((id) => !/^[1-9][0-9]{0,15}$/.test(id) || Number(id) > Number.MAX_SAFE_INTEGER) ||
		new Set(listed).size !== listed.length
	)
		fail('--callback-user-ids must be at most 100 distinct user ids, comma-separated ("" for every message)');
	listed = listed.map(Number);
	set.push(`callback_user_ids = ${sqlString(JSON.stringify(listed))}`);
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
	"key, name, recall_window_s, open_registration, callback_url, callback_secret != '' AS secret_set, callback_events, callback_max_attempts, send_rate_per_min, callback_user_ids";
const place = target(flags);
const inDatabases = `the ${remote ? "deployed" : "local"} databases`;
// The app's row is in the database the directory names.
const placement = await step("Finding the app", () => placementOf(key, place));
if (!placement) fail(`no app ${key} in ${inDatabases}`, 1);
const where = [`key = ${sqlString(key)}`];
if ((url !== undefined && secret === undefined) || listed.length > 0) {
	// What the change is checked against: the URL it replaces, and which listed ids are users.
	const [now] = await d1Rows(
		placement.database_binding,
		place,
		`SELECT callback_url, callback_secret != '' AS secret_set,
			(SELECT json_group_array(id) FROM users WHERE users.app_id = apps.id AND id IN (SELECT value FROM json_each(${sqlString(JSON.stringify(listed))}))) AS users
		FROM apps WHERE ${where[0]}`,
	);
	if (!now) fail(`no app ${key} in ${inDatabases}`, 1);
	const users = new Set(JSON.parse(now.users));
	const stranger = listed.find((id) => !users.has(id));
	if (stranger !== undefined) fail(`--callback-user-ids names ${stranger}, which is not a user of app ${key}`);
	if (
		url !== undefined &&
		url !== "" &&
		secret === undefined &&
		now.secret_set === 1 &&
		callbackHost(url) !== callbackHost(now.callback_url)
	) {
		fail(
			'--callback-secret is required when --callback-url moves to another host (a new secret, or "" for none): a secret never follows the URL',
		);
	}
	// Written only if the URL is still the one checked against.
	where.push(`callback_url = ${sqlString(now.callback_url)}`);
}
const sql =
	set.length > 0
		? `UPDATE apps SET ${set.join(", ")} WHERE ${where.join(" AND ")} RETURNING ${columns}`
		: `SELECT ${columns} FROM apps WHERE ${where[0]}`;
const row = (await step("Writing the settings", () => d1Rows(placement.database_binding, place, sql)))[0];
if (!row) fail(`no change: app ${key} is not in ${inDatabases}, or its callback_url changed meanwhile (run it again)`, 1);
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
		callback_user_ids: JSON.parse(row.callback_user_ids),
	}),
);

function fail(message, code = 2) {
	if (code === 2) usageError(command, message);
	console.error(message);
	process.exit(code);
}
