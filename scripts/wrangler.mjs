// Running the project's own wrangler from the operator scripts.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
	console.error(`wrangler and the scripts need Node.js >= 22.18; this is ${process.version}. See README.md, "Set-up".`);
	process.exit(1);
}

/** The wrangler to run: the project's own, or EDGE_IM_WRANGLER (a script; the deploy tests put a recorder there). */
const wranglerCommand = process.env.EDGE_IM_WRANGLER ?? wranglerBin;

/**
 * Runs wrangler to completion; returns its stdout, or exits with its status
 * after saying why in plain words (not logged in, no local database yet).
 * `input` goes to its stdin (a secret: never on the command line);
 * `allowFailure` answers {failed: true, output} instead of exiting. Local
 * state is SQLite files that a running `npm run dev` also writes (its
 * scheduled sweep, a request): a command that finds one locked (SQLITE_BUSY,
 * before anything is written: each command is one transaction) is run again,
 * up to 5 times, 0.2–1 s apart.
 */
export async function wrangler(args, { quiet = false, input, allowFailure = false } = {}) {
	for (let attempt = 1; ; attempt++) {
		const result = await run(args, input);
		if (result.status === 0) {
			if (!quiet) process.stderr.write(result.stderr);
			return result.stdout;
		}
		const output = `${result.stdout}${result.stderr}`;
		if (attempt < 5 && /SQLITE_BUSY|database is locked/.test(output)) {
			await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
			continue;
		}
		if (allowFailure) return { failed: true, output };
		process.stderr.write(result.stdout);
		process.stderr.write(result.stderr);
		const why = explain(output);
		if (why) console.error(`\n${why}`);
		process.exit(result.status || 1);
	}
}

/** The usual failures, said plainly. */
function explain(output) {
	if (/not authenticated|wrangler login|CLOUDFLARE_API_TOKEN|Failed to fetch auth token|Authentication error/i.test(output))
		return "Not logged in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then try again.";
	if (/no such table/i.test(output))
		return "The local database has no tables yet: run `npm run dev` once first, or point --persist-to at the folder it uses.";
	return null;
}

function run(args, input) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [wranglerCommand, ...args], {
			stdio: ["pipe", "pipe", "pipe"],
			env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk) => (stdout += chunk));
		child.stderr.on("data", (chunk) => (stderr += chunk));
		child.stdin.end(input ?? "");
		child.on("close", (status) => resolve({ status: status ?? 1, stdout, stderr }));
	});
}

/**
 * Starts a long-running wrangler (dev) attached to this terminal. `keep(line)`
 * (made once per output stream) decides which of its lines are shown.
 */
export function wranglerForeground(args, { keep } = {}) {
	const child = spawn(process.execPath, [wranglerCommand, ...args], {
		stdio: keep ? ["inherit", "pipe", "pipe"] : "inherit",
		env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
	});
	if (keep) {
		for (const [from, to] of [
			[child.stdout, process.stdout],
			[child.stderr, process.stderr],
		]) {
			const shown = keep();
			let rest = "";
			from.on("data", (chunk) => {
				const lines = (rest + chunk).split("\n");
				rest = lines.pop() ?? "";
				for (const line of lines) if (shown(line)) to.write(`${line}\n`);
			});
		}
	}
	for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
	child.on("exit", (code) => process.exit(code ?? 0));
}

/** Where a command acts: the deployed databases (--remote), or local state (wrangler's default folder, or --persist-to DIR). */
export function target(flags) {
	if (flags.remote) return ["--remote"];
	return ["--local", ...(flags["persist-to"] ? ["--persist-to", flags["persist-to"]] : [])];
}

/** A SQL string literal for `wrangler d1 execute --command` (which takes no bound parameters). */
export const sqlString = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** An app key (docs/API.md "Apps, credentials and who is acting"), as src/limits.ts says. */
export const APP_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The app databases by binding, as wrangler.toml's [vars] APP_DATABASES lists
 * them (src/db/databases.ts). The first, DB, also holds the directory.
 */
export function appDatabases() {
	const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
	const listed = /^APP_DATABASES\s*=\s*"([^"]*)"/m.exec(toml)?.[1] ?? "DB";
	const names = listed
		.split(",")
		.map((name) => name.trim())
		.filter(Boolean);
	return names.length > 0 ? names : ["DB"];
}

/** The D1 databases wrangler.toml binds: [{binding, name}] (by name: the account's ids are looked up, never written here). */
export function d1Databases() {
	const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
	return toml
		.split(/^\[\[/m)
		.filter((block) => block.startsWith("d1_databases]]"))
		.map((block) => ({ binding: /^binding\s*=\s*"([^"]+)"/m.exec(block)?.[1], name: /^database_name\s*=\s*"([^"]+)"/m.exec(block)?.[1] }))
		.filter((d) => d.binding && d.name);
}

/** Applies the migrations to every app database (`target`: --local [--persist-to DIR], or --remote). */
export async function migrateAll(where) {
	for (const binding of appDatabases()) await wrangler(["d1", "migrations", "apply", binding, ...where], { quiet: true });
}

/** Runs one SQL command on a database; returns its result rows. */
export async function d1Rows(binding, where, command) {
	return (
		JSON.parse(await wrangler(["d1", "execute", binding, ...where, "--json", "--command", command], { quiet: true }))[0]?.results ?? []
	);
}

/** Where the app with this key lives: {app_id, database_binding}, or undefined. */
export async function placementOf(key, where) {
	return (await d1Rows("DB", where, `SELECT app_id, database_binding FROM app_directory WHERE key = ${sqlString(key)}`))[0];
}
