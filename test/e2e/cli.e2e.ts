// The command-line tools (scripts/cli.mjs): every script answers --help with
// each of its flags described and exits 0 (doing nothing else: a listener does
// not start, a server is not launched); an unknown flag or a typo exits 2 and
// names it, with the flag meant; a slow step says what it is doing; missing
// local state is said plainly.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Every npm script that runs a script of ours, and the bench scripts run with node: [name, file]. */
const scripts: [string, string][] = [
	...Object.entries(JSON.parse(readFileSync("package.json", "utf8")).scripts as Record<string, string>)
		.map(([name, line]) => [name, /^node (?:--\S+ )*((?:scripts|bench)\/\S+\.mjs)$/.exec(line)?.[1]] as const)
		.filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== "build:client"),
	["node bench/ab.mjs", "bench/ab.mjs"],
	["node bench/floor.mjs", "bench/floor.mjs"],
];

function run(file: string, args: string[], timeoutMs = 60_000) {
	return new Promise<{ code: number | null; out: string; err: string; ms: number }>((done) => {
		const started = Date.now();
		const child = spawn(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		let err = "";
		child.stdout.on("data", (d) => (out += d));
		child.stderr.on("data", (d) => (err += d));
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		child.on("close", (code) => {
			clearTimeout(timer);
			done({ code, out, err, ms: Date.now() - started });
		});
	});
}

describe("the command-line tools", () => {
	it("the scripts are all here", () => {
		expect(scripts.map(([name]) => name)).toEqual(
			expect.arrayContaining([
				"dev",
				"deploy",
				"app:create",
				"app:settings",
				"app:rotate-token",
				"callbacks:listen",
				"bench",
				"bench:scale",
				"bench:cost",
			]),
		);
	});

	it.each(scripts)("%s --help describes every flag and exits 0 at once", async (_name, file) => {
		const { code, out, ms } = await run(file, ["--help"], 20_000);
		expect(code).toBe(0);
		expect(out).toMatch(/^usage: /);
		expect(out).toContain("--help");
		// Each flag the script parses is described on its own line.
		const source = readFileSync(file, "utf8");
		const declared = [...source.matchAll(/^\t\t"?([a-z][a-z0-9-]*)"?: \{ type: "(?:string|boolean)"/gm)].map((m) => m[1]);
		for (const flag of declared) expect(out, `--${flag}`).toMatch(new RegExp(`^  --${flag}\\b.* \\S`, "m"));
		expect(ms).toBeLessThan(10_000); // no listener, server or build started
	});

	it.each(scripts)("%s refuses an unknown flag with exit 2, naming it", async (_name, file) => {
		const { code, err } = await run(file, ["--no-such-flag"], 20_000);
		expect(code).toBe(2);
		expect(err).toContain("unknown flag --no-such-flag");
		expect(err).toContain("--help");
	});

	it("a typo is refused with the flag that was meant: --callback_url, --recall-window", async () => {
		const typo = await run("scripts/app-settings.mjs", ["--app", "1", "--callback_url", "https://x.example/"]);
		expect(typo.code).toBe(2);
		expect(typo.err).toContain("unknown flag --callback_url: did you mean --callback-url?");
		const old = await run("scripts/app-create.mjs", ["--name", "n", "--recall-window", "60"]);
		expect(old.code).toBe(2);
		expect(old.err).toContain("did you mean --recall-window-s?");
		const value = await run("scripts/app-settings.mjs", ["--app"]);
		expect(value.code).toBe(2);
		expect(value.err).toContain("--app needs a value");
		const stray = await run("scripts/app-create.mjs", ["--name", "n", "extra"]);
		expect(stray.code).toBe(2);
		expect(stray.err).toContain('unexpected argument "extra"');
	});

	it("a step over 2 s says what it is doing; no local database yet is said plainly", async () => {
		const state = mkdtempSync(join(tmpdir(), "edge-im-cli-"));
		try {
			const rotate = await run("scripts/app-rotate-token.mjs", ["--app", "1", "--persist-to", state]);
			expect(rotate.code).toBe(1);
			expect(rotate.err).toContain("run `npm run dev` once first");
			const created = await run("scripts/app-create.mjs", ["--name", "cli", "--persist-to", state], 120_000);
			expect(created.code, created.err).toBe(0);
			expect(created.err).toMatch(/Applying the migrations to local state…\n/);
			expect(created.err).toMatch(/Applying the migrations to local state: done in \d+\.\d s/);
			expect(JSON.parse(created.out.trim())).toMatchObject({ app_id: "1", database: expect.any(String) });
		} finally {
			rmSync(state, { recursive: true, force: true });
		}
	}, 180_000);
});
