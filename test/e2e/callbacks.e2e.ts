// docs/API.md "Message callbacks" "Message callbacks" over real HTTP: `npm run dev` POSTs callbacks to a Node
// receiver on a free port — every one, in order per conversation, in the
// source service's shape, signed, retried, dead-lettered and redelivered —
// and a bot that only hears users through callbacks can answer them.
import { execFileSync, spawn } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
// @ts-expect-error: a plain ESM script (the developer's listener)
import { verify } from "../../scripts/callbacks-listen.mjs";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { createApp, freePort, runOperatorCli, startDevServer } from "../../scripts/devServer.mjs";
import { request } from "./client";
import { type Arrival, startReceiver } from "./receiver";

const SECRET = "e2e-callback-secret-0123";
const ALL_EVENTS = ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"];
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);

/** Exactly these fields, ids as decimal strings; `recalled: true` only on a tombstone. */
const callbackShape = (appKey: string) =>
	z.strictObject({
		appId: z.literal(appKey),
		msgId: decimal,
		from: z.strictObject({ uid: decimal, device_sn: z.int().min(0) }),
		to: z.strictObject({ uid: decimal }),
		type: z.enum(ALL_EVENTS),
		ctype: z.enum(["TEXT", "IMAGE", "AUDIO", "VIDEO", "FILE", "LOCATION", "COMMAND", "FORWARD"]),
		content: z.string(),
		ext: z.string(),
		config: z.string(),
		attachment: z.string(),
		timestamp: z.int().positive(),
		is_system: z.boolean(),
		related_mid: decimal,
		recalled: z.literal(true).optional(),
	});

type App = { app_id: string; admin_token: string };
let app: App;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const server = () => ({ stateDir: inject("stateDir") });
const adminOf = (a: App) => ({ app_id: a.app_id, "access-token": a.admin_token });

async function users(a: App, n: number): Promise<number[]> {
	const run = Math.random().toString(36).slice(2, 8);
	const list = Array.from({ length: n }, (_, i) => ({ username: `cb-${run}-${i}`, password: "secret-pw" }));
	const reply = await request("POST", "/user/register/batch", { headers: adminOf(a), body: { list } });
	expect(reply.status).toBe(200);
	return reply.body.data.map((r: any) => r.user_id);
}

async function tokenOf(a: App, userId: number) {
	const reply = await request("POST", "/token/issue", { headers: adminOf(a), body: { user_id: userId } });
	return { app_id: a.app_id, "access-token": reply.body.data.token as string };
}

async function settings(a: App, body: Record<string, unknown>) {
	const reply = await request("POST", "/app/settings", { headers: adminOf(a), body });
	expect(reply.status, JSON.stringify(reply.body)).toBe(200);
	return reply.body.data;
}

const send = (headers: Record<string, string>, body: Record<string, unknown>) =>
	request("POST", "/message/send", { headers, body: { type: 1, content_type: 0, ...body } });

beforeAll(async () => {
	receiver = await startReceiver();
	app = await createApp(server(), "callbacks e2e");
});
afterAll(() => receiver.close());

describe("e2e message callbacks", () => {
	it("100 concurrent sends across 5 conversations: every callback arrives once, each conversation's in msgId order, in the shape", async () => {
		const hook = receiver.endpoint();
		await settings(app, { callback_url: hook.url, callback_secret: SECRET, callback_events: ALL_EVENTS });
		const [alice, ...peers] = await users(app, 6);
		const aliceHeaders = await tokenOf(app, alice as number);
		const replies = await Promise.all(
			Array.from({ length: 100 }, (_, i) => send(aliceHeaders, { targets: [peers[i % 5]], content: `m${i}` })),
		);
		expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
		const sent = new Set(replies.map((r) => String(r.body.msg_ids[0])));
		const arrivals = await hook.count(100);
		await new Promise((r) => setTimeout(r, 500));
		expect(arrivals.length).toBe(100);
		expect(new Set(arrivals.map((a) => a.body.msgId))).toEqual(sent);
		expect(new Set(arrivals.map((a) => a.headers["x-webhook-id"])).size).toBe(100);
		const shape = callbackShape(app.app_id);
		for (const a of arrivals) {
			expect(shape.safeParse(a.body).error).toBeUndefined();
			expect(a.body).toMatchObject({ type: "CHAT", from: { uid: String(alice) }, related_mid: "0", is_system: false });
		}
		for (const peer of peers) {
			const ids = arrivals.filter((a) => a.body.to.uid === String(peer)).map((a) => Number(a.body.msgId));
			expect(ids.length).toBe(20);
			expect(ids).toEqual([...ids].sort((x, y) => x - y));
		}
	});

	it("GROUPCHAT once per message; APPEND with the chunk; REPLACE; RECALL and READ when enabled; online_only never", async () => {
		const hook = receiver.endpoint();
		await settings(app, { callback_url: hook.url, callback_events: ALL_EVENTS });
		const [bot, carol, dave] = await users(app, 3);
		const [botH, carolH] = [await tokenOf(app, bot as number), await tokenOf(app, carol as number)];
		const group = (await request("POST", "/group/create", { headers: botH, body: { user_list: [carol, dave] } })).body.data.group_id;
		const g1 = (await send(botH, { type: 2, targets: [group], content: "hello group" })).body.msg_ids[0];
		const first = (await send(botH, { targets: [carol], content: "Thinking" })).body.msg_ids[0];
		await send(botH, { targets: [carol], content_type: 11, related_mid: first, content: " live", online_only: true });
		await send(botH, { targets: [carol], content: "not stored", online_only: true });
		await send(botH, { targets: [carol], content_type: 11, related_mid: first, content: "..." });
		await send(botH, { targets: [carol], content_type: 12, related_mid: first, content: "The answer is 42." });
		await request("GET", "/message/ack", { headers: carolH, query: { conversation_id: bot as number, msg_id: first } });
		await request("POST", "/message/recall", { headers: botH, body: { conversation_id: carol, msg_id: first } });
		const arrivals = await hook.count(6);
		await new Promise((r) => setTimeout(r, 500));
		expect(arrivals.length).toBe(6);
		const shape = callbackShape(app.app_id);
		for (const a of arrivals) expect(shape.safeParse(a.body).error).toBeUndefined();
		expect(arrivals[0]?.body).toMatchObject({ type: "GROUPCHAT", msgId: String(g1), to: { uid: String(group) }, content: "hello group" });
		const pair = arrivals
			.filter((a) => a.body.type !== "GROUPCHAT")
			.map((a) => [a.body.type, a.body.msgId, a.body.related_mid, a.body.from.uid, a.body.content]);
		expect(pair).toEqual([
			["CHAT", String(first), "0", String(bot), "Thinking"],
			["APPEND", String(first), String(first), String(bot), "..."],
			["REPLACE", String(first), String(first), String(bot), "The answer is 42."],
			["READ", String(first), String(first), String(carol), ""],
			["RECALL", String(first), String(first), String(bot), ""],
		]);
	});

	it("a receiver failing twice then answering 200: the same callback again with the same x-webhook-id, attempt 3, after the backoff", async () => {
		const hook = receiver.endpoint((_, n) => (n <= 2 ? 500 : 200));
		await settings(app, { callback_url: hook.url, callback_secret: SECRET, callback_events: ["CHAT"], callback_max_attempts: 10 });
		const [a, b] = await users(app, 2);
		await send(await tokenOf(app, a as number), { targets: [b], content: "retry" });
		const arrivals = await hook.count(3);
		await new Promise((r) => setTimeout(r, 500));
		expect(arrivals.length).toBe(3);
		expect(arrivals.map((x) => x.headers["x-webhook-attempt"])).toEqual(["1", "2", "3"]);
		expect(new Set(arrivals.map((x) => x.headers["x-webhook-id"])).size).toBe(1);
		expect(new Set(arrivals.map((x) => x.raw)).size).toBe(1);
		const [a1, a2, a3] = arrivals.map((x) => x.at) as [number, number, number];
		const gaps = [a2 - a1, a3 - a2];
		expect(gaps[0]).toBeGreaterThanOrEqual(750);
		expect(gaps[1]).toBeGreaterThanOrEqual(1_550);
	});

	it("never 2xx: dead-lettered after callback_max_attempts, listed, and redelivered in order once the receiver recovers", async () => {
		const hook = receiver.endpoint(() => 503);
		await settings(app, { callback_url: hook.url, callback_events: ["CHAT"], callback_max_attempts: 3 });
		const [a, b] = await users(app, 2);
		const aH = await tokenOf(app, a as number);
		const m1 = (await send(aH, { targets: [b], content: "first" })).body.msg_ids[0];
		const m2 = (await send(aH, { targets: [b], content: "second" })).body.msg_ids[0];
		const arrivals = await hook.count(6, 30_000);
		expect(arrivals.map((x) => [x.body.content, x.headers["x-webhook-attempt"]])).toEqual([
			["first", "1"],
			["first", "2"],
			["first", "3"],
			["second", "1"],
			["second", "2"],
			["second", "3"],
		]);
		let failed: any;
		for (let i = 0; i < 40; i++) {
			failed = await request("GET", "/app/callbacks/failed", { headers: adminOf(app) });
			if (failed.body.data.filter((f: any) => [m1, m2].includes(f.msg_id)).length === 2) break;
			await new Promise((r) => setTimeout(r, 100));
		}
		const mine = failed.body.data.filter((f: any) => [m1, m2].includes(f.msg_id));
		expect(mine.map((f: any) => [f.msg_id, f.type, f.attempts, f.last_status])).toEqual([
			[m2, "CHAT", 3, 503],
			[m1, "CHAT", 3, 503],
		]);
		hook.answerWith(() => 200);
		const redelivered = await request("POST", "/app/callbacks/redeliver", {
			headers: adminOf(app),
			body: { webhook_ids: mine.map((f: any) => f.webhook_id) },
		});
		expect(redelivered.body.data).toEqual({ queued: 2 });
		const after = await hook.count(8);
		expect(after.slice(6).map((x) => [x.body.content, x.headers["x-webhook-attempt"]])).toEqual([
			["first", "1"],
			["second", "1"],
		]);
	});

	it("a receiver that hangs past 10 s counts as a failure and is tried again", async () => {
		const hook = receiver.endpoint((_, n) => (n === 1 ? "hang" : 200));
		await settings(app, { callback_url: hook.url, callback_events: ["CHAT"], callback_max_attempts: 5 });
		const [a, b] = await users(app, 2);
		await send(await tokenOf(app, a as number), { targets: [b], content: "slow" });
		const arrivals = await hook.count(2, 30_000);
		expect(arrivals.map((x) => x.headers["x-webhook-attempt"])).toEqual(["1", "2"]);
		const [first, second] = arrivals as [Arrival, Arrival];
		expect(second.at - first.at).toBeGreaterThanOrEqual(10_000);
	}, 40_000);

	it("both signatures verify with the secret (and not with another); npm run callbacks:listen prints and checks them", async () => {
		const port = await freePort();
		const listener = spawn(process.execPath, ["scripts/callbacks-listen.mjs", "--port", String(port), "--secret", SECRET, "--json"], {
			stdio: ["ignore", "pipe", "pipe"],
		});
		try {
			let out = "";
			listener.stdout.on("data", (d) => (out += d));
			await new Promise<void>((resolve) => listener.stderr.once("data", () => resolve()));
			await settings(app, { callback_url: `http://127.0.0.1:${port}/`, callback_secret: SECRET, callback_events: ["CHAT"] });
			const [a, b] = await users(app, 2);
			const sent = (await send(await tokenOf(app, a as number), { targets: [b], content: "signed" })).body.msg_ids[0];
			for (let i = 0; i < 100 && !out.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
			const seen = JSON.parse(out.split("\n")[0] as string);
			expect(seen).toMatchObject({ signatures: { signature: true, "x-signature": true }, answered: 200, body: { msgId: String(sent) } });
		} finally {
			listener.kill();
		}
		const hook = receiver.endpoint();
		await settings(app, { callback_url: hook.url, callback_secret: SECRET, callback_events: ["CHAT"] });
		const [a, b] = await users(app, 2);
		await send(await tokenOf(app, a as number), { targets: [b], content: "check me" });
		const [arrival] = (await hook.count(1)) as [Arrival];
		expect(arrival.headers.signature).toBe(SECRET);
		expect(verify(arrival.headers, arrival.raw, SECRET)).toEqual({ signature: true, xSignature: true });
		expect(verify(arrival.headers, arrival.raw, "another-secret-01234")).toEqual({ signature: false, xSignature: false });
		expect(verify(arrival.headers, `${arrival.raw} `, SECRET).xSignature).toBe(false);

		// docs/CALLBACKS.md's own snippets, run as printed, verify it too (and refuse another secret).
		const readme = readFileSync("docs/CALLBACKS.md", "utf8");
		const js = readme.match(/```js\n\/\/ Node\n([\s\S]*?)```/)?.[1] ?? "";
		const py = readme.match(/```python\n# Python\n([\s\S]*?)```/)?.[1] ?? "";
		const verifiedJs = new Function("createHmac", "timingSafeEqual", `${js.replace(/^import .*$/m, "")}; return verified;`)(
			createHmac,
			timingSafeEqual,
		);
		expect(verifiedJs(arrival.headers, arrival.raw, SECRET)).toBe(true);
		expect(verifiedJs(arrival.headers, arrival.raw, "another-secret-01234")).toBe(false);
		const runPython = (secret: string) =>
			execFileSync(
				"python3",
				[
					"-c",
					`${py}\nimport json, sys\nh = json.loads(sys.argv[1])\nprint(verified(h, sys.argv[2].encode(), sys.argv[3]))`,
					JSON.stringify(arrival.headers),
					arrival.raw,
					secret,
				],
				{
					encoding: "utf8",
				},
			).trim();
		expect(runPython(SECRET)).toBe("True");
		expect(runPython("another-secret-01234")).toBe("False");
	});

	it("the source service's bot loop: a user messages the bot, the receiver answers as the bot, the reply is in the user's history", async () => {
		const [bot, user] = await users(app, 2);
		const hook = receiver.endpoint(async (a) => {
			if (a.body.type === "CHAT" && a.body.to.uid === String(bot) && a.body.from.uid !== String(bot)) {
				const reply = await send(adminOf(app), {
					from_user_id: Number(a.body.to.uid),
					targets: [Number(a.body.from.uid)],
					content: `echo: ${a.body.content}`,
					ext: '{"ai":{"role":"assistant"}}',
				});
				return reply.status === 200 ? 200 : 500;
			}
			return 200;
		});
		await settings(app, { callback_url: hook.url, callback_events: ["CHAT"] });
		const userH = await tokenOf(app, user as number);
		await send(userH, { targets: [bot], content: "what is 6 x 7?" });
		await hook.count(2); // the user's message, then the bot's own reply
		const history = await request("GET", "/message/conversation", { headers: userH, query: { opposite_id: bot as number } });
		expect(history.body.data.messages.map((m: any) => [m.from_xid.uid, m.content])).toEqual([
			[bot, "echo: what is 6 x 7?"],
			[user, "what is 6 x 7?"],
		]);
	});

	it("npm run app:settings sets what GET /app/settings reads; a bad value exits non-zero and changes nothing", async () => {
		const own: App = await createApp(server(), "cli settings");
		const run = (args: string[]) => runOperatorCli(server(), "scripts/app-settings.mjs", ["--app", own.app_id, ...args]);
		const done = await run([
			"--callback-url",
			"http://127.0.0.1:9000/cb",
			"--callback-secret",
			SECRET,
			"--callback-events",
			"CHAT,READ",
			"--callback-max-attempts",
			"4",
		]);
		expect(done.code, done.err).toBe(0);
		const printed = JSON.parse(done.out.trim().split("\n").pop());
		const read = await request("GET", "/app/settings", { headers: adminOf(own) });
		expect(read.body.data).toEqual(printed);
		expect(printed).toMatchObject({
			callback_url: "http://127.0.0.1:9000/cb",
			callback_secret_set: true,
			callback_events: ["CHAT", "READ"],
			callback_max_attempts: 4,
		});
		for (const bad of [
			["--callback-url", "ftp://x"],
			["--callback-secret", "short"],
			["--callback-events", "CHAT,CHAT"],
			["--callback-max-attempts", "0"],
			["--send-rate-per-min", "-1"],
			["--open-registration", "maybe"],
			["--callback-url", "http://bot.example.com/", "--remote"],
		]) {
			const refused = await run(bad);
			expect(refused.code, bad.join(" ")).not.toBe(0);
		}
		expect((await request("GET", "/app/settings", { headers: adminOf(own) })).body.data).toEqual(printed);

		// The same rules as POST /app/settings: a secret of printable ASCII, a URL to another host with its own secret,
		// callback_user_ids naming users of the app.
		const [bot] = await users(own, 1);
		for (const bad of [
			["--callback-secret", "has a space in it!!"],
			["--callback-url", "http://127.0.0.2:9000/cb"], // another host, and the secret would follow it
			["--callback-user-ids", "999999999"],
			["--callback-user-ids", `${bot},${bot}`],
		]) {
			const refused = await run(bad);
			expect(refused.code, bad.join(" ")).toBe(2);
			expect(refused.err, bad.join(" ")).toMatch(/--callback-(secret|user-ids)/);
		}
		expect((await request("GET", "/app/settings", { headers: adminOf(own) })).body.data).toEqual(printed);
		const moved = await run(["--callback-url", "http://127.0.0.2:9000/cb", "--callback-secret", "", "--callback-user-ids", String(bot)]);
		expect(moved.code, moved.err).toBe(0);
		expect(JSON.parse(moved.out.trim().split("\n").pop())).toMatchObject({
			callback_url: "http://127.0.0.2:9000/cb",
			callback_secret_set: false,
			callback_user_ids: [bot],
		});
	});
});

describe("e2e callbacks survive a restart", () => {
	it("the dev server stopped with callbacks owed and started again on the same state: they arrive", async () => {
		const local = await startReceiver();
		const hook = local.endpoint(() => 503);
		let dev = await startDevServer({ adminToken: "restart-token", keepState: true });
		try {
			const own: App = await createApp(dev, "restart");
			const base = dev.url;
			const call = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
				const response = await fetch(new URL(path, base), {
					method,
					headers: { "content-type": "application/json", ...headers },
					body: JSON.stringify(body),
				});
				return { status: response.status, body: await response.json() };
			};
			expect((await call("POST", "/app/settings", { callback_url: hook.url, callback_events: ["CHAT"] }, adminOf(own))).status).toBe(200);
			const list = [
				{ username: "r-a", password: "secret-pw" },
				{ username: "r-b", password: "secret-pw" },
			];
			const [a, b] = (await call("POST", "/user/register/batch", { list }, adminOf(own))).body.data.map((r: any) => r.user_id);
			const ids: number[] = [];
			for (const content of ["owed 1", "owed 2", "owed 3"]) {
				ids.push(
					(await call("POST", "/message/send", { from_user_id: a, targets: [b], type: 1, content_type: 0, content }, adminOf(own))).body
						.msg_ids[0],
				);
			}
			await hook.count(1); // the first was tried and failed: all three are owed
			await dev.stop();
			hook.answerWith(() => 200);
			const seenBefore = hook.arrivals.length;
			dev = await startDevServer({ adminToken: "restart-token", stateDir: dev.stateDir });
			const arrivals = await hook.count(seenBefore + 3, 120_000);
			await new Promise((r) => setTimeout(r, 1_000));
			expect(arrivals.slice(seenBefore).map((x) => Number(x.body.msgId))).toEqual(ids);
		} finally {
			await dev.stop();
			rmSync(dev.stateDir, { recursive: true, force: true });
			await local.close();
		}
	}, 240_000);
});
