// Running the project's own wrangler from the operator scripts.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	console.error(`wrangler needs Node.js >= 22.12; this is ${process.version}. See README.md, "Set-up".`);
	process.exit(1);
}

/** Runs wrangler to completion; returns its stdout, or exits with its status. */
export function wrangler(args, { quiet = false } = {}) {
	const result = spawnSync(process.execPath, [wranglerBin, ...args], {
		encoding: "utf8",
		stdio: ["ignore", "pipe", quiet ? "pipe" : "inherit"],
		env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
	});
	if (result.status !== 0) {
		process.stderr.write(result.stdout ?? "");
		if (quiet) process.stderr.write(result.stderr ?? "");
		process.exit(result.status ?? 1);
	}
	return result.stdout;
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
