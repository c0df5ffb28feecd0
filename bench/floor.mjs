// node bench/floor.mjs [--repo DIR] [--local-observability]   (Node 22; default: this checkout)
// A quick side-by-side of the hot endpoints against the /healthz floor on one
// fresh `npm run dev` of REPO_DIR (the dev app, three users, 60 messages; the
// third has no conversation, for the cheapest read there is):
// concurrency 10, 5 s per cell, two rounds, cells interleaved. Besides req/s it
// reports the CPU each request cost the runtime workerd (the Worker, its
// objects and the D1 simulator share its one thread, so that is what bounds
// throughput here), read from /proc for the server's process group. Run it on
// two checkouts one after the other to compare them on the same machine.
// wrangler's local trace capture is off unless asked, as in `npm run bench`.
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { parseCommand } from "../scripts/cli.mjs";

const flags = parseCommand({
	usage: "usage: node bench/floor.mjs [--repo DIR] [--local-observability]",
	summary:
		"The hot endpoints side by side with the /healthz floor on one fresh `npm run dev` of a checkout: req/s and runtime CPU ms per request.",
	flags: {
		repo: { type: "string", value: "DIR", help: "The checkout to measure.", default: "." },
		"local-observability": { type: "boolean", help: "Keep wrangler's local trace capture on." },
	},
});
const dir = resolve(flags.repo);
process.chdir(dir);
const { startDevServer, serverCpuMs } = await import(`${dir}/scripts/devServer.mjs`);
const autocannon = createRequire(`${dir}/package.json`)("autocannon");
const server = await startDevServer({ adminToken: "floor-token", localObservability: flags["local-observability"] === true });

try {
	const admin = { app_id: "1", "access-token": "floor-token", "content-type": "application/json" };
	const api = async (method, path, body) => {
		const reply = await (await fetch(server.url + path, { method, headers: admin, body: body && JSON.stringify(body) })).json();
		if (reply.code !== 200) throw new Error(`${method} ${path}: ${JSON.stringify(reply)}`);
		return reply.data;
	};
	const list = [
		{ username: "floor-a", password: "secret-pw" },
		{ username: "floor-b", password: "secret-pw" },
		{ username: "floor-c", password: "secret-pw" },
	];
	const [a, b, c] = (await api("POST", "/user/register/batch", { list })).map((u) => u.user_id);
	for (let i = 0; i < 60; i++)
		await api("POST", "/message/send", { type: 1, from_user_id: a, targets: [b], content_type: 0, content: `m${i}` });
	const user = { app_id: "1", "access-token": (await api("POST", "/token/issue", { user_id: b })).token };
	const asAdmin = { ...admin, user_id: String(b) };
	const loner = { app_id: "1", "access-token": (await api("POST", "/token/issue", { user_id: c })).token };
	const sendAs = (body) => [
		{ method: "POST", path: "/message/send", headers: { ...user, "content-type": "application/json" }, body: JSON.stringify(body) },
	];
	const cells = {
		floor: [{ method: "GET", path: "/healthz" }],
		"history (user token)": [{ method: "GET", path: `/message/conversation?opposite_id=${a}`, headers: user }],
		"history (admin + user_id)": [{ method: "GET", path: `/message/conversation?opposite_id=${a}`, headers: asAdmin }],
		"unread (user token)": [{ method: "GET", path: "/message/unread", headers: user }],
		"unread (admin + user_id)": [{ method: "GET", path: "/message/unread", headers: asAdmin }],
		// The least a read can cost: one D1 statement that returns nothing (c has no conversation).
		"one D1 read (unread, no conversation)": [{ method: "GET", path: "/message/unread", headers: loner }],
		"send (user token)": sendAs({ type: 1, targets: [a], content_type: 0, content: "floor" }),
		// The conversation's object and one D1 read (who is online), nothing stored.
		"send online_only (user token)": sendAs({ type: 1, targets: [a], content_type: 0, content: "floor", online_only: true }),
	};
	const run = (requests) =>
		new Promise((done, fail) => autocannon({ url: server.url, duration: 5, connections: 10, requests }, (e, r) => (e ? fail(e) : done(r))));
	const samples = Object.fromEntries(Object.keys(cells).map((name) => [name, []]));
	for (let round = 0; round < 2; round++) {
		for (const [name, requests] of Object.entries(cells)) {
			const before = serverCpuMs(server);
			const result = await run(requests);
			const after = serverCpuMs(server);
			samples[name].push({ rps: result.requests.average, runtimeMs: (after.runtime - before.runtime) / result.requests.total });
		}
	}
	const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
	const floor = mean(samples.floor.map((s) => s.rps));
	const out = Object.fromEntries(
		Object.entries(samples).map(([name, xs]) => {
			const rps = mean(xs.map((s) => s.rps));
			return [
				name,
				{ rps: Math.round(rps), ratio: Number((rps / floor).toFixed(2)), runtime_ms: Number(mean(xs.map((s) => s.runtimeMs)).toFixed(2)) },
			];
		}),
	);
	console.log(JSON.stringify({ dir, ...out }));
} finally {
	await server.stop();
}
