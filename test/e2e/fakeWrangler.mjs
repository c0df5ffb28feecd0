// A stand-in for wrangler in the deploy tests (test/e2e/deploy.e2e.ts), run
// through EDGE_IM_WRANGLER: it records every call in FAKE_WRANGLER_DIR/calls.jsonl
// and plays a Cloudflare account kept in FAKE_WRANGLER_DIR/state.json — its
// login, D1 databases (real SQLite files, so the migrations and the first app
// are really written), the Worker's secrets, deploys and the KV namespace.
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const dir = process.env.FAKE_WRANGLER_DIR;
const statePath = join(dir, "state.json");
const state = JSON.parse(readFileSync(statePath, "utf8"));
const args = process.argv.slice(2);
const stdin = args[0] === "secret" && args[1] === "put" ? readFileSync(0, "utf8") : "";
appendFileSync(join(dir, "calls.jsonl"), `${JSON.stringify({ args, stdin: stdin ? "(given)" : "" })}\n`);

const save = () => writeFileSync(statePath, JSON.stringify(state, null, "\t"));
const fail = (message) => {
	process.stderr.write(`✘ [ERROR] ${message}\n`);
	process.exit(1);
};
const databaseOf = (binding) => {
	const toml = readFileSync("wrangler.toml", "utf8");
	for (const block of toml.split(/^\[\[/m)) {
		if (new RegExp(`^binding\\s*=\\s*"${binding}"`, "m").test(block)) return /^database_name\s*=\s*"([^"]+)"/m.exec(block)?.[1];
	}
	return undefined;
};
const sqlite = (name) => {
	if (!state.databases[name]) fail(`Couldn't find a D1 DB with the name or binding '${name}'`);
	return new DatabaseSync(join(dir, `${name}.sqlite`));
};

if (!state.loggedIn && args[0] !== "deploy") {
	if (args[0] === "whoami") {
		console.log("You are not authenticated. Please run `wrangler login`.");
		process.exit(0);
	}
	fail("You are not authenticated. Please run `wrangler login`.");
}

const [verb, sub] = args;
if (verb === "whoami") console.log("You are logged in with an OAuth Token, associated with the email ops@example.com.");
else if (verb === "d1" && sub === "list")
	console.log(JSON.stringify(Object.entries(state.databases).map(([name, d]) => ({ name, uuid: d.uuid }))));
else if (verb === "d1" && sub === "create") {
	state.databases[args[2]] = { uuid: `uuid-${args[2]}`, applied: [] };
	save();
	console.log(`✅ Successfully created DB '${args[2]}'`);
} else if (verb === "d1" && sub === "migrations" && args[2] === "apply") {
	const name = databaseOf(args[3]);
	const db = sqlite(name);
	const pending = readdirSync("migrations")
		.filter((f) => f.endsWith(".sql"))
		.sort()
		.filter((f) => !state.databases[name].applied.includes(f));
	if (pending.length === 0) console.log("✅ No migrations to apply!");
	for (const file of pending) {
		db.exec(readFileSync(join("migrations", file), "utf8").replaceAll("--> statement-breakpoint", ""));
		state.databases[name].applied.push(file);
		console.log(`✅ ${file}`);
	}
	save();
} else if (verb === "d1" && sub === "execute") {
	const db = sqlite(databaseOf(args[2]));
	const sql = args[args.indexOf("--command") + 1];
	console.log(JSON.stringify([{ results: db.prepare(sql).all(), success: true, meta: {} }]));
} else if (verb === "secret" && sub === "list") {
	if (state.secretListBroken) fail("A request to the Cloudflare API failed: fetch failed");
	if (!state.workerExists) fail(`This Worker does not exist on your account. [code: 10007]`);
	console.log(JSON.stringify(Object.keys(state.secrets).map((name) => ({ name, type: "secret_text" }))));
} else if (verb === "secret" && sub === "put") {
	state.secrets[args[2]] = stdin;
	state.workerExists = true; // a draft Worker holds the secret until the first deploy
	save();
	console.log(`✨ Success! Uploaded secret ${args[2]}`);
} else if (verb === "deploy") {
	if (!state.loggedIn) fail("You are not authenticated.");
	state.deploys += 1;
	state.workerExists = true;
	state.kvProvisioned = true;
	save();
	console.log(
		`Total Upload: 1 KiB\nUploaded edge-im (0.50 sec)\nDeployed edge-im triggers (0.20 sec)\n  ${state.url}\n  schedule: * * * * *\nCurrent Version ID: v${state.deploys}`,
	);
} else fail(`the fake wrangler does not know: ${args.join(" ")}`);
