// Running the project's own wrangler from the operator scripts.
import { spawn, spawnSync } from "node:child_process";
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

/**
 * Runs wrangler to completion; returns its stdout, or exits with its status.
 * Local state is SQLite files that a running `npm run dev` also writes (its
 * scheduled sweep, a request): a command that finds one locked (SQLITE_BUSY,
 * before anything is written: each command is one transaction) is run again,
 * up to 5 times, 0.2–1 s apart.
 */
export function wrangler(args, { quiet = false } = {}) {
	for (let attempt = 1; ; attempt++) {
		const result = spawnSync(process.execPath, [wranglerBin, ...args], {
			encoding: "utf8",
			stdio: ["ignore", "pipe", "pipe"],
			env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
		});
		if (result.status === 0) {
			if (!quiet) process.stderr.write(result.stderr ?? "");
			return result.stdout;
		}
		const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
		if (attempt < 5 && /SQLITE_BUSY|database is locked/.test(output)) {
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200 * attempt);
			continue;
		}
		process.stderr.write(result.stdout ?? "");
		process.stderr.write(result.stderr ?? "");
		process.exit(result.status ?? 1);
	}
}

/** Starts a long-running wrangler (dev) attached to this terminal. */
export function wranglerForeground(args) {
	const child = spawn(process.execPath, [wranglerBin, ...args], {
		stdio: "inherit",
		env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
	});
	for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
	child.on("exit", (code) => process.exit(code ?? 0));
}

/** The value after `--name` in argv, or undefined; `--flag` alone gives true. */
export function option(argv, name) {
	const i = argv.indexOf(`--${name}`);
	if (i < 0) return undefined;
	const next = argv[i + 1];
	return next === undefined || next.startsWith("--") ? true : next;
}

/** Where local state lives: wrangler's default, or --persist-to DIR. */
export function localStateArgs(argv) {
	const dir = option(argv, "persist-to");
	return typeof dir === "string" ? ["--persist-to", dir] : [];
}

/** A SQL string literal for `wrangler d1 execute --command` (which takes no bound parameters). */
export const sqlString = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** An app key (SPEC §3), as src/limits.ts says. */
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

/** Applies the migrations to every app database (`target`: --local [--persist-to DIR], or --remote). */
export function migrateAll(target) {
	for (const binding of appDatabases()) wrangler(["d1", "migrations", "apply", binding, ...target], { quiet: true });
}

/** Runs one SQL command on a database; returns its result rows. */
export function d1Rows(binding, target, command) {
	return JSON.parse(wrangler(["d1", "execute", binding, ...target, "--json", "--command", command], { quiet: true }))[0]?.results ?? [];
}

/** Where the app with this key lives: {app_id, database_binding}, or undefined. */
export function placementOf(key, target) {
	return d1Rows("DB", target, `SELECT app_id, database_binding FROM app_directory WHERE key = ${sqlString(key)}`)[0];
}
