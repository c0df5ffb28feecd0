// node bench/render.mjs — writes bench/RESULTS.md from bench/results.json (the
// measurements) and bench/NOTES.md (the analysis, written by hand).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function renderResults() {
	const r = JSON.parse(readFileSync("bench/results.json", "utf8"));
	const table = [
		"| endpoint | concurrency | median req/s (min–max) | p50 ms | p99 ms | errors | ratio to floor | runtime CPU ms / request |",
		"|---|---:|---:|---:|---:|---:|---:|---:|",
		...r.rows.map(
			(x) =>
				`| ${x.endpoint} | ${x.concurrency} | ${x.median_rps.toFixed(0)} (${x.min_rps.toFixed(0)}–${x.max_rps.toFixed(0)}) | ${x.p50_ms} | ${x.p99_ms} | ${x.errors} | ${x.ratio_to_floor.toFixed(2)} | ${x.runtime_cpu_ms?.toFixed(2) ?? "—"} |`,
		),
	].join("\n");
	const costTable = [
		"| request | D1 round trips | SQL statements | Durable Object calls | KV operations |",
		"|---|---:|---:|---:|---:|",
		...Object.entries(r.costs).map(([name, c]) => `| ${name} | ${c.d1} | ${c.statements ?? "–"} | ${c.durableObject} | ${c.kv} |`),
	].join("\n");
	const callbackTable = r.callbacks
		? [
				"| concurrency | send req/s, callbacks on ÷ off | sends | callbacks missing | answer → callback p50 ms | p99 ms |",
				"|---:|---:|---:|---:|---:|---:|",
				...r.callbacks.map(
					(c) => `| ${c.concurrency} | ${c.on_vs_off.toFixed(2)} | ${c.sends} | ${c.missing} | ${c.latency_p50_ms} | ${c.latency_p99_ms} |`,
				),
			].join("\n")
		: "";
	const spreadTable = r.spread
		? [
				"| concurrency | 2 apps on one database, req/s | 2 apps on two databases, req/s | two ÷ one |",
				"|---:|---:|---:|---:|",
				...r.spread.map(
					(x) => `| ${x.concurrency} | ${x.one_db_rps.toFixed(1)} | ${x.two_db_rps.toFixed(1)} | ${x.two_vs_one.toFixed(2)} |`,
				),
			].join("\n")
		: "";
	const realtimeTable = r.realtime
		? [
				"| concurrency | send req/s, 100 channels open ÷ none | sends | events missing | answer → event p50 ms | p99 ms |",
				"|---:|---:|---:|---:|---:|---:|",
				...r.realtime.map(
					(c) =>
						`| ${c.concurrency} | ${c.open_vs_none.toFixed(2)} | ${c.sends} | ${c.missing} | ${c.latency_p50_ms} | ${c.latency_p99_ms} |`,
				),
			].join("\n")
		: "";
	let notes = "";
	try {
		notes = readFileSync("bench/NOTES.md", "utf8");
	} catch {}
	const s = r.settings ?? {};
	writeFileSync(
		"bench/RESULTS.md",
		`# Benchmark results

- Date: ${r.date}
- Command: \`${r.command}\`
- Machine: ${r.machine.cores} cores, ${r.machine.cpu}, ${r.machine.memory_gib} GiB
- Versions: Node ${r.versions.node}, wrangler ${r.versions.wrangler}, workerd ${r.versions.workerd}, autocannon ${r.versions.autocannon}
- Server: \`npm run dev\` (wrangler dev: local D1, KV and Durable Objects) on loopback; autocannon on the same 2 cores. wrangler's local trace capture (\`X_LOCAL_OBSERVABILITY\`): ${s.local_observability === false ? "off (bench/NOTES.md)" : s.local_observability ? "on" : "on (wrangler's default; not recorded by this run)"}.
- Each cell ${s.duration_s} s, ${s.rounds} rounds, the cells interleaved within each round. Sends rotate over ${s.pairs} conversations; history reads a conversation of ${s.history_size} messages.
- Runtime CPU ms / request: CPU of the workerd process that runs the Worker, its Durable Objects and the D1 simulator (one thread, so it bounds throughput here; bench/NOTES.md), over the cell's requests, from /proc.

${table}
${spreadTable ? `\n## Apps on several D1 databases\n\nThe same 1:1 traffic over two apps (50 conversations each), placed on DB and DB_2, vs two apps both on DB (docs/SCALE.md). Locally both databases are SQLite files in the one workerd process on the same 2 cores.\n\n${spreadTable}\n` : ""}${realtimeTable ? `\n## Realtime channels\n\nThe channels-open cell sends the same traffic in an app whose 100 receivers each hold an open channel (\`GET /realtime\`, Node WebSockets in bench/channels.mjs, its own process on the same machine); it is compared with "send 1:1" (no channels). Latency: from the moment autocannon read the send's answer to the message event's arrival at the receiver's channel, over every send of that cell in all rounds.\n\n${realtimeTable}\n` : ""}${callbackTable ? `\n## Message callbacks\n\nThe callbacks-on cell sends the same traffic in an app whose callback URL is a receiver that answers 200 at once (bench/receiver.mjs, its own process on the same machine). Latency: from the moment autocannon read the send's answer to the callback's arrival, over every send of that cell in all rounds (a negative value: the callback arrived before the load generator got round to the answer).\n\n${callbackTable}\n` : ""}
## Cost per request

Counted by \`test/meter.ts\` in \`test/cost.test.ts\` (warm isolate):

${costTable}
${notes ? `\n${notes}` : ""}`,
	);
	return `${table}\n\n${spreadTable}\n\n${realtimeTable}\n\n${callbackTable}\n\n${costTable}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(renderResults());
