// npm run bench [-- --duration 5 --rounds 3 --concurrency 1,10,50 --local-observability]
// Starts `npm run dev` on a free port with fresh state, seeds data through the
// API, and measures each endpoint with autocannon. Cells (endpoint ×
// concurrency) are interleaved within each round, so machine drift hits all of
// them alike. Writes bench/results.json and bench/RESULTS.md. wrangler's local
// trace capture is off unless --local-observability (bench/NOTES.md: it costs
// every invocation CPU on the Worker's thread, and production has no such cost).
import { fork, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import autocannon from "autocannon";
import { parseCommand, usageError } from "../scripts/cli.mjs";
import { createApp, serverCpuMs, startDevServer } from "../scripts/devServer.mjs";
import { renderResults } from "./render.mjs";

const command = {
	usage: "usage: npm run bench [-- --duration S] [--rounds N] [--concurrency 1,10,50] [--local-observability]",
	summary:
		"Starts `npm run dev` with fresh state, seeds data through the API and measures each endpoint with autocannon, cells interleaved per round. Writes bench/results.json and bench/RESULTS.md.",
	flags: {
		duration: { type: "string", value: "S", help: "Seconds per cell.", default: "5" },
		rounds: { type: "string", value: "N", help: "Rounds (every cell once per round).", default: "3" },
		concurrency: { type: "string", value: "LIST", help: "Connections per cell, comma-separated.", default: "1,10,50" },
		"local-observability": { type: "boolean", help: "Keep wrangler's local trace capture on (it costs CPU per request; off by default)." },
	},
};
const flags = parseCommand(command);
const duration = Number(flags.duration);
const rounds = Number(flags.rounds);
const concurrencies = flags.concurrency.split(",").map(Number);
if (![duration, rounds, ...concurrencies].every((n) => Number.isInteger(n) && n > 0))
	usageError(command, "--duration, --rounds and --concurrency take whole numbers above 0");
const localObservability = flags["local-observability"] === true;
const PAIRS = 100; // senders spread over conversations, as real traffic is
const GROUP_SIZES = [10, 100, 1000];
const HISTORY_SIZE = 10_000;

const server = await startDevServer({ adminToken: "bench-admin-token", localObservability });
process.on("SIGINT", () => server.stop().then(() => process.exit(130)));
// A bench app made by the operator CLI, with a recall window longer than the run.
// Every app is placed explicitly (DB unless a cell says otherwise), so runs compare alike.
const benchApp = await createApp(server, "bench", ["--recall-window-s", "86400", "--database", "DB"]);
const APP = String(benchApp.app_id);
const admin = { app_id: APP, "access-token": benchApp.admin_token, "content-type": "application/json" };

async function api(method, path, body, headers = admin) {
	const response = await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) });
	const json = await response.json();
	if (json.code !== 200) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
	return json.data;
}

function run(options) {
	return new Promise((resolve, reject) => {
		autocannon({ url: server.url, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
	});
}

// A callback receiver that answers at once and records when each callback arrived (docs/API.md "Message callbacks" latency).
const receiver = fork("bench/receiver.mjs");
const receiverPort = await new Promise((resolve) => receiver.once("message", (m) => resolve(m.port)));
/** When each callbacks-on send was answered, by msgId and concurrency. */
const answeredAt = new Map();
// The realtime clients (docs/API.md "Real-time delivery" latency), likewise in their own process.
const channels = fork("bench/channels.mjs");
/** When each send of the channels-open cell was answered, by msgId and concurrency. */
const liveAnsweredAt = new Map();

let results;
try {
	// ---- seed through the API --------------------------------------------------
	const users = [];
	for (let i = 0; i < Math.ceil(Math.max(2 * PAIRS + 3, Math.max(...GROUP_SIZES) + 2) / 100); i++) {
		const list = Array.from({ length: 100 }, (_, j) => ({ username: `bench-${i}-${j}`, password: "bench-password" }));
		users.push(...(await api("POST", "/user/register/batch", { list })).map((row) => row.user_id));
	}
	const pairs = [];
	for (let i = 0; i < PAIRS; i++) {
		const [from, to] = [users[2 * i], users[2 * i + 1]];
		pairs.push({ from, to, token: (await api("POST", "/token/issue", { user_id: from })).token });
	}
	// The same traffic in a second app whose backend takes callbacks (docs/API.md "Message callbacks").
	const hookedApp = await createApp(server, "bench callbacks", ["--database", "DB"]);
	const hookedAdmin = { app_id: String(hookedApp.app_id), "access-token": hookedApp.admin_token, "content-type": "application/json" };
	await api("POST", "/app/settings", { callback_url: `http://127.0.0.1:${receiverPort}/` }, hookedAdmin);
	const hookedUsers = [];
	for (let i = 0; i < (2 * PAIRS) / 100; i++) {
		const list = Array.from({ length: 100 }, (_, j) => ({ username: `hooked-${i}-${j}`, password: "bench-password" }));
		hookedUsers.push(...(await api("POST", "/user/register/batch", { list }, hookedAdmin)).map((row) => row.user_id));
	}
	const hookedPairs = [];
	for (let i = 0; i < PAIRS; i++) {
		const [from, to] = [hookedUsers[2 * i], hookedUsers[2 * i + 1]];
		hookedPairs.push({ from, to, token: (await api("POST", "/token/issue", { user_id: from }, hookedAdmin)).token });
	}

	// And in a third app whose receivers hold open realtime channels (docs/API.md "Real-time delivery"), 100 of them, in their own process.
	const liveApp = await createApp(server, "bench realtime", ["--database", "DB"]);
	const liveAdmin = { app_id: String(liveApp.app_id), "access-token": liveApp.admin_token, "content-type": "application/json" };
	const liveUsers = [];
	for (let i = 0; i < (2 * PAIRS) / 100; i++) {
		const list = Array.from({ length: 100 }, (_, j) => ({ username: `live-${i}-${j}`, password: "bench-password" }));
		liveUsers.push(...(await api("POST", "/user/register/batch", { list }, liveAdmin)).map((row) => row.user_id));
	}
	const livePairs = [];
	const listeners = [];
	for (let i = 0; i < PAIRS; i++) {
		const [from, to] = [liveUsers[2 * i], liveUsers[2 * i + 1]];
		livePairs.push({ from, to, token: (await api("POST", "/token/issue", { user_id: from }, liveAdmin)).token });
		listeners.push((await api("POST", "/token/issue", { user_id: to }, liveAdmin)).token);
	}
	channels.send({ open: { base: server.url, app: String(liveApp.app_id), tokens: listeners } });
	const opened = await new Promise((resolve) => channels.once("message", (m) => resolve(m.opened)));
	if (opened !== PAIRS) throw new Error(`${opened} of ${PAIRS} channels opened`);

	// Load spread over apps: two apps on DB and DB_2 vs two apps both on DB (the same traffic, docs/SCALE.md).
	const spreadApps = {};
	for (const [cell, databases] of [
		["two", ["DB", "DB_2"]],
		["one", ["DB", "DB"]],
	]) {
		spreadApps[cell] = [];
		for (const [n, database] of databases.entries()) {
			const made = await createApp(server, `bench spread ${cell} ${n}`, ["--database", database]);
			const appAdmin = { app_id: String(made.app_id), "access-token": made.admin_token, "content-type": "application/json" };
			const list = Array.from({ length: PAIRS }, (_, j) => ({ username: `spread-${j}`, password: "bench-password" }));
			const ids = (await api("POST", "/user/register/batch", { list }, appAdmin)).map((row) => row.user_id);
			for (let i = 0; i < PAIRS / 2; i++) {
				const token = (await api("POST", "/token/issue", { user_id: ids[2 * i] }, appAdmin)).token;
				spreadApps[cell].push({ app: String(made.app_id), to: ids[2 * i + 1], token });
			}
		}
	}

	const [writer, reader] = [users[2 * PAIRS], users[2 * PAIRS + 1]];
	const writerToken = (await api("POST", "/token/issue", { user_id: writer })).token;
	const readerToken = (await api("POST", "/token/issue", { user_id: reader })).token;
	process.stderr.write(`seeding a conversation of ${HISTORY_SIZE} messages...\n`);
	const seeded = await run({
		amount: HISTORY_SIZE,
		connections: 20,
		requests: [
			{
				method: "POST",
				path: "/message/send",
				headers: { app_id: APP, "access-token": writerToken, "content-type": "application/json" },
				body: JSON.stringify({ type: 1, targets: [reader], content_type: 0, content: "history filler" }),
			},
		],
	});
	if (seeded.non2xx || seeded.errors) throw new Error(`seeding failed: ${JSON.stringify(seeded.statusCodeStats)}, ${seeded.errors} errors`);

	// A user with 200 conversations: every seeded user writes to them once.
	const inbox = users[2 * PAIRS + 2];
	const inboxToken = (await api("POST", "/token/issue", { user_id: inbox })).token;
	for (const from of users.slice(0, 2 * PAIRS)) {
		await api("POST", "/message/send", { from_user_id: from, targets: [inbox], type: 1, content_type: 0, content: "hello inbox" });
	}
	// A user with no conversation: their unread list is one D1 read that returns nothing, the least a read can cost here.
	const [loner] = (await api("POST", "/user/register/batch", { list: [{ username: "bench-loner", password: "bench-password" }] })).map(
		(row) => row.user_id,
	);
	const lonerToken = (await api("POST", "/token/issue", { user_id: loner })).token;
	// The newest 1,000 messages of the big conversation, to recall one by one.
	const recallable = [];
	for (let start = 0; recallable.length < 1000; ) {
		const page = await api("GET", `/message/conversation?opposite_id=${reader}&limit=100&msg_id_start=${start}`, undefined, {
			app_id: APP,
			"access-token": writerToken,
		});
		recallable.push(...page.messages.map((m) => m.msg_id));
		start = page.next_msg_id;
	}
	const newest = recallable[0];

	// Groups of 10, 100 and 1,000 members, owned by the writer (who sends into them).
	const groupIds = {};
	for (const size of GROUP_SIZES) {
		const members = users.filter((u) => u !== writer && u !== inbox).slice(0, size - 1);
		const created = await api(
			"POST",
			"/group/create",
			{ name: `bench ${size}`, user_list: members },
			{ ...admin, user_id: String(writer) },
		);
		if (created.count !== size) throw new Error(`group of ${size} has ${created.count} members`);
		groupIds[size] = created.group_id;
	}

	// ---- the cells -------------------------------------------------------------
	let next = 0;
	let transaction = 0;
	/** A 1:1 send in the bench app, or (`track`) in the callbacks app or the realtime app, noting when each was answered. */
	const sendRequest = (withTransaction, track = null) => {
		const [appId, appPairs, answered] =
			track?.kind === "callbacks"
				? [String(hookedApp.app_id), hookedPairs, answeredAt]
				: track?.kind === "realtime"
					? [String(liveApp.app_id), livePairs, liveAnsweredAt]
					: [APP, pairs, null];
		return {
			method: "POST",
			path: "/message/send",
			setupRequest: (request) => {
				const pair = appPairs[next++ % PAIRS];
				const body = { type: 1, targets: [pair.to], content_type: 0, content: "bench message" };
				if (withTransaction) body.transaction_id = ++transaction;
				return {
					...request,
					headers: { app_id: appId, "access-token": pair.token, "content-type": "application/json" },
					body: JSON.stringify(body),
				};
			},
			...(answered && {
				onResponse: (status, body) => {
					if (status === 200) answered.set(String(JSON.parse(body).msg_ids[0]), { at: Date.now(), connections: track.connections });
				},
			}),
		};
	};
	/** A 1:1 send in one of the spread apps, taking them in turn. */
	const spreadSend = (cell) => ({
		method: "POST",
		path: "/message/send",
		setupRequest: (request) => {
			const pair = spreadApps[cell][next++ % spreadApps[cell].length];
			return {
				...request,
				headers: { app_id: pair.app, "access-token": pair.token, "content-type": "application/json" },
				body: JSON.stringify({ type: 1, targets: [pair.to], content_type: 0, content: "bench message" }),
			};
		},
	});
	const endpoints = {
		"GET /healthz (floor)": [{ method: "GET", path: "/healthz" }],
		"one D1 read: unread list, no conversations": [
			{ method: "GET", path: "/message/unread", headers: { app_id: APP, "access-token": lonerToken } },
		],
		"send 1:1, 2 apps on one database": [spreadSend("one")],
		"send 1:1, 2 apps on two databases": [spreadSend("two")],
		"send 1:1": [sendRequest(false)],
		"send 1:1, callbacks on": (connections) => [sendRequest(false, { kind: "callbacks", connections })],
		"send 1:1, 100 channels open": (connections) => [sendRequest(false, { kind: "realtime", connections })],
		"send 1:1 + transaction_id": [sendRequest(true)],
		"history, 20 of 10,000": [
			{
				method: "GET",
				path: `/message/conversation?opposite_id=${writer}&limit=20`,
				headers: { app_id: APP, "access-token": readerToken },
			},
		],
		...Object.fromEntries(
			GROUP_SIZES.map((size) => [
				`send into a group of ${size}`,
				[
					{
						method: "POST",
						path: "/message/send",
						headers: { app_id: APP, "access-token": writerToken, "content-type": "application/json" },
						body: JSON.stringify({ type: 2, targets: [groupIds[size]], content_type: 0, content: "to the group" }),
					},
				],
			]),
		),
		"unread list, 200 conversations": [
			{ method: "GET", path: "/message/unread?limit=200", headers: { app_id: APP, "access-token": inboxToken } },
		],
		ack: [
			{
				method: "GET",
				path: `/message/ack?conversation_id=${writer}&msg_id=${newest}`,
				headers: { app_id: APP, "access-token": readerToken },
			},
		],
		recall: [
			{
				method: "POST",
				path: "/message/recall",
				setupRequest: (request) => ({
					...request,
					headers: { app_id: APP, "access-token": writerToken, "content-type": "application/json" },
					body: JSON.stringify({ conversation_id: reader, msg_id: recallable[next++ % recallable.length] }),
				}),
			},
		],
	};

	const samples = {};
	for (let round = 1; round <= rounds; round++) {
		for (const connections of concurrencies) {
			for (const [name, requests] of Object.entries(endpoints)) {
				const cpuBefore = serverCpuMs(server);
				const r = await run({ duration, connections, requests: typeof requests === "function" ? requests(connections) : requests });
				const runtimeMs = (serverCpuMs(server).runtime - cpuBefore.runtime) / Math.max(1, r.requests.total);
				const cell = `${name}|${connections}`;
				samples[cell] ??= [];
				samples[cell].push({
					rps: r.requests.average,
					p50: r.latency.p50,
					p99: r.latency.p99,
					errors: r.errors + r.non2xx + r.timeouts,
					runtimeMs,
				});
				process.stderr.write(`round ${round} c=${connections} ${name}: ${r.requests.average} req/s\n`);
			}
		}
	}

	const median = (values) => {
		const s = [...values].sort((a, b) => a - b);
		return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
	};
	const rows = [];
	for (const connections of concurrencies) {
		const floor = median(samples[`GET /healthz (floor)|${connections}`].map((s) => s.rps));
		for (const name of Object.keys(endpoints)) {
			const cell = samples[`${name}|${connections}`];
			const rps = cell.map((s) => s.rps);
			rows.push({
				endpoint: name,
				concurrency: connections,
				median_rps: median(rps),
				min_rps: Math.min(...rps),
				max_rps: Math.max(...rps),
				p50_ms: median(cell.map((s) => s.p50)),
				p99_ms: median(cell.map((s) => s.p99)),
				errors: cell.reduce((n, s) => n + s.errors, 0),
				runtime_cpu_ms: Number(median(cell.map((s) => s.runtimeMs)).toFixed(2)),
				ratio_to_floor: Number((median(rps) / floor).toFixed(3)),
			});
		}
	}
	// Callbacks: throughput with them on vs off, and the time from a send's answer to its callback's arrival.
	await new Promise((resolve) => setTimeout(resolve, 5_000)); // the last cell's callbacks drain
	receiver.send("arrivals");
	const arrivedAt = new Map(Object.entries(await new Promise((resolve) => receiver.once("message", (m) => resolve(m.arrivedAt)))));
	const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
	const callbacks = concurrencies.map((connections) => {
		const row = (name) => rows.find((x) => x.endpoint === name && x.concurrency === connections);
		const delays = [...answeredAt]
			.filter(([, a]) => a.connections === connections)
			.map(([msgId, a]) => (arrivedAt.has(msgId) ? arrivedAt.get(msgId) - a.at : Number.POSITIVE_INFINITY))
			.sort((a, b) => a - b);
		return {
			concurrency: connections,
			on_vs_off: Number((row("send 1:1, callbacks on").median_rps / row("send 1:1").median_rps).toFixed(3)),
			sends: delays.length,
			missing: delays.filter((d) => d === Number.POSITIVE_INFINITY).length,
			latency_p50_ms: percentile(delays, 50),
			latency_p99_ms: percentile(delays, 99),
		};
	});
	// Realtime: throughput with 100 receivers online vs none, and the time from a send's answer to its event at the channel.
	channels.send("arrivals");
	const eventAt = new Map(Object.entries(await new Promise((resolve) => channels.once("message", (m) => resolve(m.arrivedAt)))));
	const realtime = concurrencies.map((connections) => {
		const row = (name) => rows.find((x) => x.endpoint === name && x.concurrency === connections);
		const delays = [...liveAnsweredAt]
			.filter(([, a]) => a.connections === connections)
			.map(([msgId, a]) => (eventAt.has(msgId) ? eventAt.get(msgId) - a.at : Number.POSITIVE_INFINITY))
			.sort((a, b) => a - b);
		return {
			concurrency: connections,
			open_vs_none: Number((row("send 1:1, 100 channels open").median_rps / row("send 1:1").median_rps).toFixed(3)),
			sends: delays.length,
			missing: delays.filter((d) => d === Number.POSITIVE_INFINITY).length,
			latency_p50_ms: percentile(delays, 50),
			latency_p99_ms: percentile(delays, 99),
		};
	});
	// Several databases: the same traffic over two apps on DB and DB_2 vs two apps on DB.
	const spread = concurrencies.map((connections) => {
		const row = (name) => rows.find((x) => x.endpoint === name && x.concurrency === connections);
		const [one, two] = [row("send 1:1, 2 apps on one database"), row("send 1:1, 2 apps on two databases")];
		return {
			concurrency: connections,
			one_db_rps: one.median_rps,
			two_db_rps: two.median_rps,
			two_vs_one: Number((two.median_rps / one.median_rps).toFixed(3)),
		};
	});
	results = { rows, samples, callbacks, realtime, spread };
} finally {
	await server.stop();
	receiver.disconnect();
	channels.disconnect();
}

// ---- cost per request, from the instrumentation the tests use ----------------
const vitest = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "test/cost.test.ts"], { encoding: "utf8" });
const costLine = `${vitest.stdout}\n${vitest.stderr}`.split("\n").find((line) => line.includes("COST {"));
const costs = costLine ? JSON.parse(costLine.slice(costLine.indexOf("{"))) : {};

// The workerd that `wrangler dev` runs is wrangler's own dependency.
const wranglerDir = dirname(createRequire(import.meta.url).resolve("wrangler/package.json"));
const version = (dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
const meta = {
	date: new Date().toISOString(),
	command: `npm run bench -- --duration ${duration} --rounds ${rounds} --concurrency ${concurrencies.join(",")}${localObservability ? " --local-observability" : ""}`,
	machine: { cores: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30) },
	settings: {
		duration_s: duration,
		rounds,
		pairs: PAIRS,
		history_size: HISTORY_SIZE,
		group_sizes: GROUP_SIZES,
		local_observability: localObservability,
	},
	versions: {
		node: process.version,
		wrangler: version(wranglerDir),
		workerd: version(dirname(createRequire(join(wranglerDir, "package.json")).resolve("workerd/package.json"))),
		autocannon: version("node_modules/autocannon"),
	},
};
writeFileSync("bench/results.json", `${JSON.stringify({ ...meta, ...results, costs }, null, 2)}\n`);
console.log(renderResults());
