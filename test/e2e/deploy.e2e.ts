// npm run deploy (scripts/deploy.mjs, docs/DEPLOY.md) with wrangler replaced
// by a recorder playing a Cloudflare account (test/e2e/fakeWrangler.mjs): the
// first deploy does every step in order — databases, migrations before the
// code, the signing key on stdin and never printed, the deploy, a first app,
// the health check — and a second run changes nothing that is in place.
// The dry run uses the real wrangler in a copy with no public/ folder.
// Not run here: anything against a live Cloudflare account (docs/DEPLOY.md).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let health: Server;
let healthUrl = "";

beforeAll(async () => {
	health = createServer((request, response) => {
		const ok = request.url === "/healthz";
		response.writeHead(ok ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify({ code: ok ? 200 : 404 }));
	});
	await new Promise<void>((r) => health.listen(0, "127.0.0.1", r));
	const address = health.address() as { port: number };
	healthUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(() => new Promise<void>((r) => health.close(() => r())));

type Account = {
	loggedIn: boolean;
	databases: Record<string, { uuid: string; applied: string[] }>;
	workerExists: boolean;
	secrets: Record<string, string>;
	deploys: number;
	kvProvisioned: boolean;
	secretListBroken?: boolean;
	url: string;
};

function account(dir: string, overrides: Partial<Account> = {}) {
	const state: Account = {
		loggedIn: true,
		databases: {},
		workerExists: false,
		secrets: {},
		deploys: 0,
		kvProvisioned: false,
		url: healthUrl,
		...overrides,
	};
	writeFileSync(join(dir, "state.json"), JSON.stringify(state));
	writeFileSync(join(dir, "calls.jsonl"), "");
}
const stateOf = (dir: string) => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as Account;
const callsOf = (dir: string) =>
	readFileSync(join(dir, "calls.jsonl"), "utf8")
		.trim()
		.split("\n")
		.filter(Boolean)
		.map((line) => (JSON.parse(line) as { args: string[] }).args.join(" "));

function deploy(dir: string, args: string[] = [], cwd = process.cwd(), fake = true) {
	return new Promise<{ code: number; out: string; err: string }>((done) => {
		const child = spawn(process.execPath, [join(cwd, "scripts/deploy.mjs"), ...args], {
			cwd,
			env: { ...process.env, ...(fake ? { EDGE_IM_WRANGLER: resolve("test/e2e/fakeWrangler.mjs"), FAKE_WRANGLER_DIR: dir } : {}) },
		});
		let out = "";
		let err = "";
		child.stdout.on("data", (d) => (out += d));
		child.stderr.on("data", (d) => (err += d));
		child.on("close", (code) => done({ code: code ?? 1, out, err }));
	});
}

describe("npm run deploy, against a recorded account", () => {
	it("a first deploy does every step, in order; a second changes nothing that is in place", async () => {
		const dir = mkdtempSync(join(tmpdir(), "edge-im-deploy-"));
		try {
			account(dir);
			const first = await deploy(dir);
			expect(first.code, first.err + first.out).toBe(0);
			const calls = callsOf(dir);
			expect(calls[0]).toBe("whoami");
			expect(calls).toContain("d1 create edge-im");
			expect(calls).toContain("d1 create edge-im-2");
			const at = (call: string) => calls.indexOf(call);
			const deployAt = at("deploy");
			expect(deployAt).toBeGreaterThan(0);
			// The migrations and the key are in place before the code goes live; the app after it.
			expect(at("d1 migrations apply DB --remote")).toBeLessThan(deployAt);
			expect(at("d1 migrations apply DB_2 --remote")).toBeLessThan(deployAt);
			expect(at("secret put TOKEN_SIGNING_KEY")).toBeLessThan(deployAt);
			expect(calls.findIndex((c) => c.includes("INSERT INTO apps"))).toBeGreaterThan(deployAt);

			const after = stateOf(dir);
			expect(after.secrets.TOKEN_SIGNING_KEY).toMatch(/^[0-9a-f]{64}$/);
			expect(after.kvProvisioned).toBe(true);
			// The key is never printed nor on a command line; the admin token is printed once.
			const key = after.secrets.TOKEN_SIGNING_KEY as string;
			expect(first.out + first.err).not.toContain(key);
			expect(readFileSync(join(dir, "calls.jsonl"), "utf8")).not.toContain(key);
			const tokens = first.out.match(/adm_[0-9a-f]{64}/g) ?? [];
			expect(tokens).toHaveLength(1);
			expect(first.out).toContain(`${healthUrl}/healthz: 200`);
			// The app is really there, under the token printed.
			const db = new DatabaseSync(join(dir, "edge-im.sqlite"));
			expect(db.prepare("SELECT key, name FROM apps").all()).toEqual([{ key: "1", name: "main" }]);
			db.close();

			// Again: nothing created, the key kept, no second app; migrations up to date; the code deployed.
			writeFileSync(join(dir, "calls.jsonl"), "");
			const second = await deploy(dir);
			expect(second.code, second.err + second.out).toBe(0);
			const again = callsOf(dir);
			expect(again.filter((c) => c.startsWith("d1 create") || c.startsWith("secret put") || c.includes("INSERT"))).toEqual([]);
			expect(again.filter((c) => c === "deploy")).toHaveLength(1);
			expect(second.out).toContain("DB: up to date");
			expect(second.out).toContain("TOKEN_SIGNING_KEY: set (kept)");
			expect(second.out).toContain("there are apps already");
			expect(second.out).not.toMatch(/adm_[0-9a-f]{64}/);
			expect(stateOf(dir).secrets.TOKEN_SIGNING_KEY).toBe(key);
			expect(stateOf(dir).deploys).toBe(2);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}, 120_000);

	it("a database that exists is not created again, and gets every migration it lacks before the code", async () => {
		const dir = mkdtempSync(join(tmpdir(), "edge-im-deploy-"));
		try {
			// edge-im made by hand and never migrated; edge-im-2 missing.
			account(dir, { databases: { "edge-im": { uuid: "by-hand", applied: [] } } });
			const run = await deploy(dir);
			expect(run.code, run.err + run.out).toBe(0);
			const calls = callsOf(dir);
			expect(calls.filter((c) => c.startsWith("d1 create"))).toEqual(["d1 create edge-im-2"]);
			expect(run.out).toContain("edge-im (DB): exists");
			expect(run.out).toContain("DB: migrated");
			expect(calls.indexOf("d1 migrations apply DB --remote")).toBeLessThan(calls.indexOf("deploy"));
			const migrations = readdirSync("migrations").filter((f) => f.endsWith(".sql"));
			expect(stateOf(dir).databases["edge-im"]?.applied).toEqual(migrations.sort());
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}, 120_000);

	it("not logged in: says how to log in and does nothing else", async () => {
		const dir = mkdtempSync(join(tmpdir(), "edge-im-deploy-"));
		try {
			account(dir, { loggedIn: false });
			const run = await deploy(dir);
			expect(run.code).toBe(1);
			expect(run.err).toContain("npx wrangler login");
			expect(callsOf(dir)).toEqual(["whoami"]);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}, 60_000);

	it("secrets that cannot be listed: no key is put (it would end every token) and nothing is deployed", async () => {
		const dir = mkdtempSync(join(tmpdir(), "edge-im-deploy-"));
		try {
			account(dir, { workerExists: true, secretListBroken: true });
			const run = await deploy(dir);
			expect(run.code).toBe(1);
			expect(run.err).toContain("nothing was put");
			const calls = callsOf(dir);
			expect(calls.some((c) => c.startsWith("secret put") || c === "deploy")).toBe(false);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}, 60_000);

	it("--dry-run in a fresh copy (no public/ yet) prints every step, builds the bundle with the real wrangler, and needs no account", async () => {
		const copy = mkdtempSync(join(tmpdir(), "edge-im-dry-"));
		try {
			for (const part of ["src", "migrations", "scripts", "web", "client", "wrangler.toml", "package.json", "tsconfig.json"])
				cpSync(part, join(copy, part), { recursive: true, filter: (source) => !/client\/(dist|src\/generated)/.test(source) });
			symlinkSync(resolve("node_modules"), join(copy, "node_modules"));
			expect(existsSync(join(copy, "public"))).toBe(false);
			const run = await deploy("", ["--dry-run"], copy, false);
			expect(run.code, run.err + run.out).toBe(0);
			for (const stepText of [
				"wrangler whoami",
				"wrangler d1 create edge-im",
				"migrations apply DB_2 --remote",
				"secret put TOKEN_SIGNING_KEY",
				"wrangler deploy",
				"/healthz",
			])
				expect(run.out).toContain(stepText);
			expect(run.out).toMatch(/Total Upload: [\d.]+ KiB/);
			expect(existsSync(join(copy, "public", "chat.js"))).toBe(true);
			expect(existsSync(join(copy, ".wrangler", "dry-run", "index.js"))).toBe(true);
		} finally {
			rmSync(copy, { recursive: true, force: true });
		}
	}, 180_000);
});
