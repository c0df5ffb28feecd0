// npm run bench:cost
// What each operation costs on Cloudflare, in the units it bills (D1 rows read
// and written as D1's own meta reports them, Durable Object calls and storage
// rows, KV reads and writes, Worker requests), counted through the public HTTP
// surface in workerd — the runtime and local D1 of `wrangler dev` — and priced
// at the list prices of docs/COSTS.md. Counts do not drift between runs the
// way timings do. Prints the table and writes bench/COST.md and bench/cost.json.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { parseCommand } from "../scripts/cli.mjs";

parseCommand({
	usage: "usage: npm run bench:cost",
	summary:
		"What each operation costs on Cloudflare, in the units it bills, counted in workerd and priced at docs/COSTS.md's list prices. Prints the table and writes bench/COST.md and bench/cost.json.",
	flags: {},
});

const run = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "vitest.cost.config.mts"], {
	encoding: "utf8",
	maxBuffer: 64 * 1024 * 1024,
});
const line = `${run.stdout}\n${run.stderr}`.split("\n").find((l) => l.includes("COSTREPORT "));
if (run.status !== 0 || !line) {
	process.stderr.write(run.stdout);
	process.stderr.write(run.stderr);
	console.error("bench:cost: the measurement did not complete");
	process.exit(1);
}
const { prices, report } = JSON.parse(line.slice(line.indexOf("COSTREPORT ") + "COSTREPORT ".length));
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim();
const columns = [
	["workerRequests", "Worker requests"],
	["d1RowsRead", "D1 rows read"],
	["d1RowsWritten", "D1 rows written"],
	["objectCalls", "object calls"],
	["objectRowsRead", "object rows read"],
	["objectRowsWritten", "object rows written"],
	["kvReads", "KV reads"],
	["kvWrites", "KV writes"],
];
const table = [
	`| operation | ${columns.map(([, title]) => title).join(" | ")} | $ per million |`,
	`|---|${columns.map(() => "---:").join("|")}|---:|`,
	...report.map((r) => `| ${r.operation} | ${columns.map(([key]) => r.units[key]).join(" | ")} | ${r.dollarsPerMillion.toFixed(3)} |`),
].join("\n");
const priced = columns.map(([key, title]) => `${title} $${prices[key]}`).join(", ");
const markdown = `# What each operation costs on Cloudflare

- Date: ${new Date().toISOString()}
- Commit: ${commit}
- Command: \`npm run bench:cost\` (test/costReport.pool.ts in workerd with local D1; units counted by test/meter.ts)
- Prices per million (docs/COSTS.md): ${priced}. Worker CPU time is not counted here (docs/COSTS.md says why).

Each row is one request (and what it leaves to do: its pushes, its callback delivered and recorded), measured warm.
"$ per million" is the price of a million such operations.

${table}
`;
writeFileSync("bench/COST.md", markdown);
writeFileSync("bench/cost.json", `${JSON.stringify({ date: new Date().toISOString(), commit, prices, report }, null, "\t")}\n`);
console.log(table);
console.log("\nWritten: bench/COST.md, bench/cost.json");
