// npm run bench:scale [-- --messages 20000]
// What one message costs in storage, measured: starts `npm run dev` with fresh
// state, writes messages through the API (1:1 without and with
// transaction_id, and into a group of 100), and after each phase reads the
// app's local D1 file with SQLite's dbstat: bytes per table with its indexes,
// and rows. Prints one JSON object; docs/SCALE.md records a run.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import autocannon from "autocannon";
import { parseCommand, usageError } from "../scripts/cli.mjs";
import { createApp, startDevServer } from "../scripts/devServer.mjs";

const command = {
	usage: "usage: npm run bench:scale [-- --messages N]",
	summary:
		"What one message costs in storage: writes messages through the API on a fresh `npm run dev` and reads the local D1 file's bytes per table with SQLite's dbstat. Prints one JSON object.",
	flags: { messages: { type: "string", value: "N", help: "Messages per phase.", default: "20000" } },
};
const flags = parseCommand(command);
const MESSAGES = Number(flags.messages);
if (!Number.isInteger(MESSAGES) || MESSAGES < 1) usageError(command, "--messages takes a whole number above 0");
const PAIRS = 100;
const GROUP = 100;

const server = await startDevServer({ adminToken: "scale-admin-token" });
try {
	const app = await createApp(server, "scale", ["--database", "DB_2"]);
	const admin = { app_id: String(app.app_id), "access-token": app.admin_token, "content-type": "application/json" };
	const api = async (method, path, body, headers = admin) => {
		const json = await (await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) })).json();
		if (json.code !== 200) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
		return json.data;
	};
	const users = [];
	for (let i = 0; i < (2 * PAIRS) / 100; i++) {
		const list = Array.from({ length: 100 }, (_, j) => ({ username: `scale-${i}-${j}`, password: "scale-password" }));
		users.push(...(await api("POST", "/user/register/batch", { list })).map((u) => u.user_id));
	}
	const pairs = [];
	for (let i = 0; i < PAIRS; i++)
		pairs.push({ to: users[2 * i + 1], token: (await api("POST", "/token/issue", { user_id: users[2 * i] })).token });
	// Every pair's conversation exists before measuring: what grows after is per message.
	let next = 0;
	let transaction = 0;
	const sendAll = async (amount, { withTransaction = false, group = null } = {}) => {
		const result = await new Promise((resolve, reject) =>
			autocannon(
				{
					url: server.url,
					amount,
					connections: 10,
					requests: [
						{
							method: "POST",
							path: "/message/send",
							setupRequest: (request) => {
								const pair = pairs[next++ % PAIRS];
								const body = group
									? { type: 2, targets: [group.id], content_type: 0, content: "a message of 24 letters" }
									: { type: 1, targets: [pair.to], content_type: 0, content: "a message of 24 letters" };
								if (withTransaction) body.transaction_id = ++transaction;
								const token = group ? group.token : pair.token;
								return { ...request, headers: { ...admin, "access-token": token }, body: JSON.stringify(body) };
							},
						},
					],
				},
				(error, r) => (error ? reject(error) : resolve(r)),
			),
		);
		if (result.non2xx || result.errors) throw new Error(`sends failed: ${JSON.stringify(result.statusCodeStats)}`);
	};
	await sendAll(PAIRS);

	const file = appDatabaseFile(server.stateDir, app.app_id);
	const phases = {};
	let before = measure(file);
	const phase = async (name, amount, options) => {
		await sendAll(amount, options);
		const after = measure(file);
		phases[name] = perMessage(before, after, amount);
		before = after;
	};
	await phase("1:1", MESSAGES);
	await phase("1:1 + transaction_id", MESSAGES / 4, { withTransaction: true });
	const members = users.slice(1, GROUP);
	const owner = (await api("POST", "/token/issue", { user_id: users[0] })).token;
	const group = await api("POST", "/group/create", { name: "scale", user_list: members }, { ...admin, user_id: String(users[0]) });
	await sendAll(10, { group: { id: group.group_id, token: owner } });
	before = measure(file);
	await phase(`group of ${GROUP}`, MESSAGES / 4, { group: { id: group.group_id, token: owner } });
	console.log(
		JSON.stringify(
			{ command: `npm run bench:scale -- --messages ${MESSAGES}`, date: new Date().toISOString(), phases, total: measure(file) },
			null,
			2,
		),
	);
} finally {
	await server.stop();
}

/** The local D1 file (of the dev server's state) that holds the app's row. */
function appDatabaseFile(stateDir, appKey) {
	const dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
	for (const name of readdirSync(dir).filter((n) => n.endsWith(".sqlite"))) {
		const db = new DatabaseSync(join(dir, name), { readOnly: true });
		try {
			if (db.prepare("SELECT 1 FROM apps WHERE key = ?").get(String(appKey))) return join(dir, name);
		} finally {
			db.close();
		}
	}
	throw new Error(`no local D1 file holds app ${appKey}`);
}

/** Bytes (pages in use, indexes counted with their table) and rows of each table. */
function measure(path) {
	const db = new DatabaseSync(path, { readOnly: true });
	try {
		const owner = new Map(
			db
				.prepare("SELECT name, tbl_name FROM sqlite_schema")
				.all()
				.map((r) => [r.name, r.tbl_name]),
		);
		const tables = {};
		for (const r of db.prepare("SELECT name, sum(pgsize) AS bytes, sum(pgsize - unused) AS used FROM dbstat GROUP BY name").all()) {
			const table = owner.get(r.name) ?? r.name;
			if (table.startsWith("sqlite_") || table.startsWith("_cf") || table === "d1_migrations") continue;
			tables[table] ??= { bytes: 0, used: 0, rows: 0 };
			tables[table].bytes += r.bytes;
			tables[table].used += r.used;
		}
		for (const table of Object.keys(tables)) tables[table].rows = db.prepare(`SELECT count(*) AS n FROM "${table}"`).get().n;
		return tables;
	} finally {
		db.close();
	}
}

/** What each message added: bytes (allocated pages and bytes in use) and rows, per table and in all. */
function perMessage(before, after, messages) {
	const out = {};
	let bytes = 0;
	let used = 0;
	for (const [table, a] of Object.entries(after)) {
		const b = before[table] ?? { bytes: 0, used: 0, rows: 0 };
		const d = { bytes: (a.bytes - b.bytes) / messages, used: (a.used - b.used) / messages, rows: (a.rows - b.rows) / messages };
		if (d.bytes === 0 && d.rows === 0 && d.used === 0) continue;
		out[table] = { bytes: round(d.bytes), used_bytes: round(d.used), rows: round(d.rows) };
		bytes += d.bytes;
		used += d.used;
	}
	return { messages, bytes_per_message: round(bytes), used_bytes_per_message: round(used), tables: out };
}

function round(x) {
	return Math.round(x * 100) / 100;
}
