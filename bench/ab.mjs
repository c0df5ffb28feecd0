// node bench/ab.mjs --before DIR [--rounds 5 --duration 5 --concurrency 10]
// Two checkouts side by side on one machine: this one ("after") and DIR
// ("before": another commit, e.g. `git worktree add DIR <commit>` with this
// node_modules linked into it). Each gets its own `npm run dev` with fresh
// state, seeded alike through the API (a group of 1,000 and a user with 200
// conversations); then the cells run interleaved — in every round each cell
// on both servers, in alternating order — so the machine's drift hits both
// alike. Prints req/s per cell and server, and the ratio after ÷ before.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import autocannon from "autocannon";
import { parseCommand, usageError } from "../scripts/cli.mjs";
import { freePort } from "../scripts/devServer.mjs";

const command = {
	usage: "usage: node bench/ab.mjs --before DIR [--rounds N] [--duration S] [--concurrency N]",
	summary:
		"This checkout against another (DIR) on one machine, each with its own `npm run dev`, cells interleaved in alternating order. Prints req/s per cell and the ratio after ÷ before.",
	flags: {
		before: {
			type: "string",
			value: "DIR",
			help: "The other checkout (e.g. `git worktree add DIR <commit>`, this node_modules linked in). Required.",
		},
		rounds: { type: "string", value: "N", help: "Rounds.", default: "5" },
		duration: { type: "string", value: "S", help: "Seconds per cell.", default: "5" },
		concurrency: { type: "string", value: "N", help: "Connections per cell.", default: "10" },
	},
};
const flags = parseCommand(command);
const beforeDir = flags.before;
if (typeof beforeDir !== "string") usageError(command, "--before DIR is required");
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const connections = Number(flags.concurrency);
if (![rounds, duration, connections].every((n) => Number.isInteger(n) && n > 0))
	usageError(command, "--rounds, --duration and --concurrency take whole numbers above 0");
const ADMIN = "ab-admin-token";

/** `npm run dev` of the checkout at `dir`, on a free port with fresh state (its own scripts, its own code). */
async function start(dir) {
	const stateDir = mkdtempSync(join(tmpdir(), "edge-im-ab-"));
	const port = await freePort();
	const child = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port), "--persist-to", stateDir], {
		cwd: dir,
		detached: true,
		stdio: "ignore",
		env: { ...process.env, DEV_ADMIN_TOKEN: ADMIN, X_LOCAL_OBSERVABILITY: "false" },
	});
	const url = `http://127.0.0.1:${port}`;
	for (let waited = 0; ; waited += 250) {
		try {
			if ((await fetch(`${url}/healthz`)).ok) break;
		} catch {}
		if (waited > 120_000) throw new Error(`${dir}: npm run dev did not answer`);
		await new Promise((r) => setTimeout(r, 250));
	}
	return {
		url,
		stop: () => {
			try {
				process.kill(-child.pid, "SIGTERM");
			} catch {}
			rmSync(stateDir, { recursive: true, force: true });
		},
	};
}

/** Seeds a server alike: a group of 1,000 owned by a writer, and a reader with 200 conversations. Returns its cells. */
async function seed(server) {
	const admin = { app_id: "1", "access-token": ADMIN, "content-type": "application/json" };
	const api = async (method, path, body, headers = admin) => {
		const json = await (await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) })).json();
		if (json.code !== 200) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
		return json.data;
	};
	const users = [];
	for (let i = 0; i < 12; i++) {
		const list = Array.from({ length: 100 }, (_, j) => ({ username: `ab-${i}-${j}`, password: "ab-password" }));
		users.push(...(await api("POST", "/user/register/batch", { list })).map((row) => row.user_id));
	}
	const [writer, inbox] = [users[1100], users[1101]];
	const writerToken = (await api("POST", "/token/issue", { user_id: writer })).token;
	const inboxToken = (await api("POST", "/token/issue", { user_id: inbox })).token;
	const group = (await api("POST", "/group/create", { user_list: users.slice(0, 999) }, { ...admin, user_id: String(writer) })).group_id;
	for (const from of users.slice(0, 200)) {
		await api("POST", "/message/send", { from_user_id: from, targets: [inbox], type: 1, content_type: 0, content: "hello inbox" });
	}
	return {
		"send into a group of 1,000": {
			method: "POST",
			path: "/message/send",
			headers: { app_id: "1", "access-token": writerToken, "content-type": "application/json" },
			body: JSON.stringify({ type: 2, targets: [group], content_type: 0, content: "to the group" }),
		},
		"unread list, 200 conversations": {
			method: "GET",
			path: "/message/unread?limit=200",
			headers: { app_id: "1", "access-token": inboxToken },
		},
	};
}

const cannon = (url, request) =>
	new Promise((done, fail) =>
		autocannon({ url, connections, duration, requests: [request] }, (error, result) => (error ? fail(error) : done(result))),
	);

const dirs = { before: resolve(beforeDir), after: resolve(".") };
const servers = {};
try {
	for (const [side, dir] of Object.entries(dirs)) servers[side] = await start(dir);
	const cells = { before: await seed(servers.before), after: await seed(servers.after) };
	const rates = {};
	for (let round = 0; round < rounds; round++) {
		for (const cell of Object.keys(cells.after)) {
			for (const side of round % 2 === 0 ? ["before", "after"] : ["after", "before"]) {
				const result = await cannon(servers[side].url, cells[side][cell]);
				if (result.non2xx || result.errors) throw new Error(`${side} ${cell}: ${result.non2xx} non-2xx, ${result.errors} errors`);
				rates[cell] ??= { before: [], after: [] };
				rates[cell][side].push(result.requests.average);
			}
		}
		process.stderr.write(`round ${round + 1} of ${rounds}\n`);
	}
	const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
	console.log(`| cell (c=${connections}, ${rounds} rounds × ${duration} s) | before req/s | after req/s | after ÷ before |`);
	console.log("|---|---:|---:|---:|");
	for (const [cell, { before, after }] of Object.entries(rates)) {
		console.log(
			`| ${cell} | ${median(before).toFixed(0)} | ${median(after).toFixed(0)} | ${(median(after) / median(before)).toFixed(2)} |`,
		);
	}
	console.log(
		`\nper round, before: ${JSON.stringify(Object.fromEntries(Object.entries(rates).map(([c, r]) => [c, r.before.map(Math.round)])))}`,
	);
	console.log(
		`per round, after: ${JSON.stringify(Object.fromEntries(Object.entries(rates).map(([c, r]) => [c, r.after.map(Math.round)])))}`,
	);
} finally {
	for (const server of Object.values(servers)) server.stop();
}
