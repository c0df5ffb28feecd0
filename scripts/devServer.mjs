// Starts `npm run dev` (scripts/dev.mjs) on a free loopback port with a fresh,
// temporary state folder, for the end-to-end suite and the benchmark. stop()
// ends the whole process group (wrangler and its workerd) and removes the state.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/**
 * `port`: listen there (a restart at the same address), else on a free port.
 * `stateDir`: start on an existing state folder (a restart); it is then kept
 * on stop, as is any folder when `keepState` is set. `localObservability`
 * false turns off wrangler's local trace capture (X_LOCAL_OBSERVABILITY: every
 * invocation streamed to a collector that writes it to SQLite, on the Worker's
 * own thread), as the benchmarks do unless asked (bench/NOTES.md).
 */
export async function startDevServer({
	adminToken = "dev-admin-token",
	timeoutMs = 90_000,
	stateDir: reuse,
	keepState = false,
	localObservability = true,
	port: wanted,
} = {}) {
	const stateDir = reuse ?? mkdtempSync(join(tmpdir(), "edge-im-state-"));
	const removeOnStop = !reuse && !keepState;
	const logFile = join(stateDir, "dev.log");
	const port = wanted ?? (await freePort());
	const log = openSync(logFile, "a");
	const child = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port), "--persist-to", stateDir], {
		detached: true, // its own process group, so stop() reaches workerd too
		stdio: ["ignore", log, log],
		env: { ...process.env, DEV_ADMIN_TOKEN: adminToken, ...(localObservability ? {} : { X_LOCAL_OBSERVABILITY: "false" }) },
	});
	closeSync(log);
	const url = `http://127.0.0.1:${port}`;
	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		const exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
		try {
			process.kill(-child.pid, "SIGTERM");
		} catch {}
		const timer = setTimeout(() => {
			try {
				process.kill(-child.pid, "SIGKILL");
			} catch {}
		}, 5_000);
		await exited;
		clearTimeout(timer);
		if (removeOnStop) rmSync(stateDir, { recursive: true, force: true });
	};

	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (child.exitCode !== null) {
			const output = readFileSync(logFile, "utf8");
			await stop();
			throw new Error(`npm run dev exited early:\n${output}`);
		}
		try {
			const response = await fetch(`${url}/healthz`);
			if (response.ok) break;
		} catch {}
		if (Date.now() > deadline) {
			const output = readFileSync(logFile, "utf8");
			await stop();
			throw new Error(`npm run dev did not answer within ${timeoutMs} ms:\n${output}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	return { url, port, pid: child.pid, stateDir, adminToken, stop };
}

/** Runs `npm run app:create` against the server's state; returns {app_id, admin_token}. */
export const createApp = (server, name, extraArgs = []) => operatorCli(server, "scripts/app-create.mjs", ["--name", name, ...extraArgs]);

/** Runs `npm run app:rotate-token` against the server's state; returns {app_id, admin_token}. */
export const rotateToken = (server, appId) => operatorCli(server, "scripts/app-rotate-token.mjs", ["--app", String(appId)]);

async function operatorCli(server, script, args) {
	const { code, out, err } = await runOperatorCli(server, script, args);
	if (code !== 0) throw new Error(`${script} failed (${code}): ${err}`);
	const lines = out.trim().split("\n");
	return JSON.parse(lines[lines.length - 1]);
}

/** Runs an operator script against the server's state; returns its exit code and output. */
export async function runOperatorCli(server, script, args) {
	const child = spawn(process.execPath, [script, ...args, "--persist-to", server.stateDir], {
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	let err = "";
	child.stdout.on("data", (d) => (out += d));
	child.stderr.on("data", (d) => (err += d));
	const code = await new Promise((resolve) => child.on("exit", resolve));
	return { code, out, err };
}

/**
 * CPU ms used so far by a started server's processes (its process group), by
 * role: `runtime` is the workerd that runs the Worker, its Durable Objects and
 * the D1 simulator on one thread, `proxy` the workerd in front of it, `wrangler`
 * its Node process. Linux only (/proc); the bench divides the difference by requests.
 */
export function serverCpuMs(server) {
	const out = { runtime: 0, proxy: 0, wrangler: 0 };
	for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
		let stat;
		let args;
		try {
			stat = readFileSync(`/proc/${pid}/stat`, "utf8");
			args = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
		} catch {
			continue; // it ended meanwhile
		}
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		if (Number(fields[2]) !== server.pid) continue; // not in the server's process group
		const ms = (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
		const role = args.includes("bin/workerd") ? (args.includes("entry=127.0.0.1:0") ? "runtime" : "proxy") : "wrangler";
		out[role] += ms;
	}
	return out;
}
