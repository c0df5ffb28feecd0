// npm run bench:bookkeeping
// The two ways to keep group unread counts, measured on the D1 that `npm run dev`
// uses, for groups of 10, 100 and 1,000 members:
//   counters       (what we ship) — every message adds 1 to each member's row:
//                  a write per member per message, one statement; the unread
//                  list reads stored numbers.
//   read positions (the alternative) — a message writes nothing per member;
//                  the unread list counts, per conversation, the messages after
//                  the member's read position.
// Seeds through the API, then times each statement with D1's own
// `meta.duration` (`wrangler d1 execute --local --json`), REPEAT times in one
// command, and writes bench/bookkeeping.json and bench/BOOKKEEPING.md.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createApp, startDevServer } from "../scripts/devServer.mjs";

const SIZES = [10, 100, 1000];
const BACKLOG = 1000; // unread messages waiting in each group for the reader
const REPEAT = 100;
const wranglerBin = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");

const server = await startDevServer({ adminToken: "bookkeeping-admin-token" });
let rows;
try {
	const app = await createApp(server, "bookkeeping");
	const headers = { app_id: String(app.app_id), "access-token": app.admin_token, "content-type": "application/json" };
	const api = async (path, body, extra = {}) => {
		const reply = await (
			await fetch(server.url + path, { method: "POST", headers: { ...headers, ...extra }, body: JSON.stringify(body) })
		).json();
		if (reply.code !== 200) throw new Error(`${path}: ${JSON.stringify(reply)}`);
		return reply.data;
	};
	const users = [];
	for (let i = 0; i < Math.ceil((Math.max(...SIZES) + 1) / 100); i++) {
		const list = Array.from({ length: 100 }, (_, j) => ({ username: `bk-${i}-${j}`, password: "bookkeeping" }));
		users.push(...(await api("/user/register/batch", { list })).map((r) => r.user_id));
	}
	const [writer, reader] = users;
	const groups = {};
	for (const size of SIZES) {
		const members = users.filter((u) => u !== writer).slice(0, size - 1);
		groups[size] = (await api("/group/create", { user_list: members }, { user_id: String(writer) })).group_id;
		for (let i = 0; i < BACKLOG; i++) {
			await api("/message/send", { from_user_id: writer, type: 2, targets: [groups[size]], content_type: 0, content: `backlog ${i}` });
		}
	}

	/** D1's own duration of `statement`, averaged over REPEAT runs in one command. */
	const timed = (statement) => {
		const output = execFileSync(
			process.execPath,
			[
				wranglerBin,
				"d1",
				"execute",
				"DB",
				"--local",
				"--persist-to",
				server.stateDir,
				"--json",
				"--command",
				Array(REPEAT).fill(statement).join(";\n"),
			],
			{ encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, CI: "true" } },
		);
		const results = JSON.parse(output);
		return results.reduce((total, r) => total + (r.meta?.duration ?? 0), 0) / results.length;
	};
	// Rows carry the app's internal number; the CLI prints its key.
	const appId = `(SELECT id FROM apps WHERE key = '${app.app_id}')`;
	const readTimeList = `SELECT cm.peer_id, (SELECT count(*) FROM messages m WHERE m.app_id = cm.app_id AND m.conversation_key = cm.conversation_key
		AND m.id > max(cm.read_position, cm.clear_point) AND m.id <= coalesce(cm.left_at, 9007199254740991)
		AND m.from_uid != cm.user_id AND m.recalled = 0) AS num
		FROM conversation_members cm WHERE cm.app_id = ${appId} AND cm.user_id = ${reader} AND cm.deleted = 0 ORDER BY cm.last_msg_id DESC LIMIT 100`;
	const storedList = `SELECT peer_id, unread_count FROM conversation_members WHERE app_id = ${appId} AND user_id = ${reader} AND deleted = 0 ORDER BY last_msg_id DESC LIMIT 100`;
	rows = SIZES.map((size) => ({
		members: size,
		counters_write_ms: timed(
			`UPDATE conversation_members SET unread_count = unread_count + 1 WHERE app_id = ${appId} AND conversation_key = 'g:${groups[size]}' AND left_at IS NULL AND user_id != ${writer}`,
		),
		read_positions_write_ms: 0,
	}));
	const reads = { counters_list_ms: timed(storedList), read_positions_list_ms: timed(readTimeList) };
	const result = { date: new Date().toISOString(), command: "npm run bench:bookkeeping", backlog: BACKLOG, repeat: REPEAT, rows, reads };
	writeFileSync("bench/bookkeeping.json", `${JSON.stringify(result, null, 2)}\n`);
	writeFileSync(
		"bench/BOOKKEEPING.md",
		`# Group unread bookkeeping: counters vs read positions

- Date: ${result.date}
- Command: \`${result.command}\` (D1 of \`npm run dev\`; each statement run ${REPEAT} times, D1's \`meta.duration\` averaged)
- The reader is in 3 groups (10, 100, 1,000 members), each with ${BACKLOG} unread messages.

| members | per message, counters: +1 for every member (ms) | per message, read positions (ms) |
|---:|---:|---:|
${rows.map((r) => `| ${r.members} | ${r.counters_write_ms.toFixed(3)} | 0 (nothing per member) |`).join("\n")}

| the reader's unread list | ms |
|---|---:|
| counters: read stored numbers | ${reads.counters_list_ms.toFixed(3)} |
| read positions: count after each read position | ${reads.read_positions_list_ms.toFixed(3)} |
`,
	);
	console.log(JSON.stringify(result, null, 2));
} finally {
	await server.stop();
}
