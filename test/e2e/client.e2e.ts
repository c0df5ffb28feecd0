// The client library over real HTTP (client/, docs/CLIENT.md): two users
// exchange 300 messages across 4 conversations while their sockets are cut at
// random points and the server is stopped and started again; at the end each
// client holds exactly the server's history — every message once, as the
// server has it — and the same read states. And the package packs and installs.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it, vi } from "vitest";
import { Chat, ImClient, ImError, type Message } from "../../client/src/index";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { startDevServer } from "../../scripts/devServer.mjs";

const ADMIN = "client-e2e-admin";

/** The global WebSocket, with every instance kept so the test can cut them. */
const opened: WebSocket[] = [];
class CuttableWebSocket extends WebSocket {
	constructor(url: string) {
		super(url);
		opened.push(this);
	}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries a call while the service is unreachable or busy (the server is restarting), for up to two minutes. */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
	const deadline = Date.now() + 120_000;
	for (;;) {
		try {
			return await call();
		} catch (error) {
			if (!(error instanceof ImError && error.retryable) || Date.now() > deadline) throw error;
			await sleep(200);
		}
	}
}

/** What a client must hold: each message's id, text, time and recall, and whether it is READ from that user's view. */
const shape = (m: Message) => ({
	id: m.msg_id,
	content: m.content,
	timestamp: m.timestamp,
	recalled: m.recalled,
	read: m.status === "READ",
});

describe("e2e: the client library", () => {
	it("300 messages across 4 conversations, sockets cut at random and the server restarted: each client ends with exactly the server's history and read states", async () => {
		let server = await startDevServer({ adminToken: ADMIN, keepState: true, localObservability: false });
		const { port, stateDir } = server;
		try {
			const admin = new ImClient({ baseUrl: server.url, appId: "1", token: ADMIN });
			const run = Date.now().toString(36);
			const registered = await admin.postUserRegisterBatch({
				body: {
					list: [
						{ username: `lib-ann-${run}`, password: "ann-password" },
						{ username: `lib-ben-${run}`, password: "ben-password" },
					],
				},
			});
			const [ann, ben] = registered.data.map((r) => r.user_id) as [number, number];
			const people = [
				{ id: ann, name: `lib-ann-${run}`, password: "ann-password" },
				{ id: ben, name: `lib-ben-${run}`, password: "ben-password" },
			];
			const clients = people.map(() => new ImClient({ baseUrl: server.url, appId: "1" }));
			for (const [i, p] of people.entries()) await clients[i]?.login(p.name, p.password);
			// Four conversations: the two of them, and three groups of both.
			const conversations: { id: number; type: 1 | 2 }[] = [];
			for (let g = 0; g < 3; g++) {
				const group = await (clients[0] as ImClient).postGroupCreate({ body: { name: `lib ${g}`, user_list: [ben] } });
				conversations.push({ id: group.data.group_id, type: 2 });
			}
			const peerOf = (i: number, c: { id: number; type: 1 | 2 }) => (c.type === 2 ? c.id : (people[1 - i] as { id: number }).id);
			const chats: Chat[] = people.map(
				(p, i) =>
					new Chat(clients[i] as ImClient, {
						userId: p.id,
						WebSocket: CuttableWebSocket,
						backoff: { baseMs: 50, maxMs: 1_000 },
						credentials: async () => (await (clients[i] as ImClient).login(p.name, p.password)).token,
					}),
			);
			conversations.unshift({ id: ben, type: 1 }); // as Ann sees it; Ben sees Ann
			for (const [i, chat] of chats.entries()) {
				await chat.loadConversations();
				for (const c of conversations) await chat.open(peerOf(i, c), c.type);
				chat.start();
			}

			let restarted = false;
			let cuts = 0;
			for (let n = 0; n < 300; n++) {
				const i = Math.random() < 0.5 ? 0 : 1;
				const c = conversations[Math.floor(Math.random() * conversations.length)] as { id: number; type: 1 | 2 };
				const chat = chats[i] as Chat;
				// A transaction id: a send retried after a cut or a restart is written once.
				await retrying(() => chat.send(peerOf(i, c), c.type, `message ${n} from ${i}`, { transaction_id: n + 1 }));
				if (Math.random() < 0.08) await retrying(() => (chats[1 - i] as Chat).markRead(peerOf(1 - i, c))); // the other one reads it
				if (Math.random() < 0.06) {
					const live = opened.filter((s) => s.readyState === WebSocket.OPEN);
					live[Math.floor(Math.random() * live.length)]?.close(4000, "cut by the test");
					cuts++;
				}
				if (n === 150 && !restarted) {
					await server.stop();
					await sleep(1_500);
					server = await startDevServer({ adminToken: ADMIN, stateDir, port, localObservability: false });
					restarted = true;
				}
			}
			// Read states at the end differ by conversation: Ben reads two of them.
			for (const c of conversations.slice(0, 2)) await retrying(() => (chats[1] as Chat).markRead(peerOf(1, c)));

			// Each client converges on the server's history and read states, on its own.
			const truth = async (i: number, peer: number) => {
				const out: Message[] = [];
				for (let start = 0; ; ) {
					const page = await (clients[i] as ImClient).getMessageConversation({
						query: { opposite_id: peer, limit: 100, ...(start ? { msg_id_start: start } : {}) },
					});
					out.push(...page.data.messages);
					if (page.data.is_last) return out.reverse();
					start = page.data.next_msg_id;
				}
			};
			for (const [i, chat] of chats.entries()) {
				await vi.waitFor(
					async () => {
						for (const c of conversations) {
							const peer = peerOf(i, c);
							expect(chat.messages(peer).map(shape), `user ${i} with ${peer}`).toEqual((await truth(i, peer)).map(shape));
						}
					},
					{ timeout: 30_000, interval: 500 },
				);
				const list = (await (clients[i] as ImClient).getMessageUnread()).data;
				for (const c of conversations) {
					const peer = peerOf(i, c);
					const mine = chat.conversations().find((e) => e.conversation_id.uid === peer);
					const served = list.find((e) => e.conversation_id.uid === peer);
					expect({ num: mine?.num, last: mine?.last_msg_id }, `user ${i} with ${peer}`).toEqual({
						num: served?.num,
						last: served?.last_msg_id,
					});
				}
			}
			const total = conversations.reduce((sum, c) => sum + (chats[0] as Chat).messages(peerOf(0, c)).length, 0);
			expect(total).toBe(300);
			expect(restarted).toBe(true);
			expect(cuts).toBeGreaterThan(3);
			for (const chat of chats) chat.stop();
		} finally {
			await server.stop();
			rmSync(stateDir, { recursive: true, force: true });
		}
	}, 240_000);

	it("the package packs and installs: npm pack, npm install of the tarball, then the README's Node bot runs from it and answers", async () => {
		const folder = mkdtempSync(join(tmpdir(), "edge-im-client-pack-"));
		let bot: ChildProcess | undefined;
		try {
			const tarball = execFileSync("npm", ["pack", "--pack-destination", folder], { cwd: "client", encoding: "utf8" })
				.trim()
				.split("\n")
				.pop() as string;
			writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
			execFileSync("npm", ["install", "--no-audit", "--no-fund", join(folder, tarball)], { cwd: folder, stdio: "ignore" });
			// The bot exactly as the README shows it.
			const readme = readFileSync("README.md", "utf8");
			const block = /<!-- the Node bot:[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
			expect(block, "the README's Node bot").toBeTruthy();
			writeFileSync(join(folder, "bot.mjs"), block as string);

			const baseUrl = inject("baseUrl");
			const admin = new ImClient({ baseUrl, appId: "1", token: inject("devAdminToken") });
			const run = Date.now().toString(36);
			const [botId, userId] = (
				await admin.postUserRegisterBatch({
					body: {
						list: [
							{ username: `readme-bot-${run}`, password: "bot-password" },
							{ username: `readme-user-${run}`, password: "user-password" },
						],
					},
				})
			).data.map((r) => r.user_id) as [number, number];
			let output = "";
			bot = spawn(process.execPath, ["bot.mjs"], {
				cwd: folder,
				env: { ...process.env, IM_URL: baseUrl, IM_BOT_NAME: `readme-bot-${run}`, IM_BOT_PASSWORD: "bot-password" },
			});
			bot.stdout?.on("data", (chunk) => (output += chunk));
			bot.stderr?.on("data", (chunk) => (output += chunk));
			await vi.waitFor(() => expect(output).toContain("channel: live"), { timeout: 30_000, interval: 100 });

			const user = new ImClient({ baseUrl, appId: "1" });
			await user.login(`readme-user-${run}`, "user-password");
			await user.postMessageSend({ body: { type: 1, targets: [botId], content_type: 0, content: "hello bot" } });
			await vi.waitFor(
				async () => {
					const page = await user.getMessageConversation({ query: { opposite_id: botId, limit: 5 } });
					expect(page.data.messages.map((m) => [m.from_xid.uid, m.content])).toContainEqual([botId, "You said: hello bot"]);
				},
				{ timeout: 30_000, interval: 200 },
			);
			expect(userId).toBeGreaterThan(0);

			// An unreachable service, and a refused call, are ImErrors from the installed package too.
			writeFileSync(
				join(folder, "check.mjs"),
				`import { ImClient, ImError } from "@edge-im/client";
const refused = await new ImClient({ baseUrl: process.argv[2], appId: "1" }).getMessageUnread().catch((e) => e);
console.log(JSON.stringify({ refused: refused instanceof ImError ? [refused.code, typeof refused.requestId] : "no" }));`,
			);
			const out = execFileSync(process.execPath, ["check.mjs", baseUrl], { cwd: folder, encoding: "utf8" });
			expect(JSON.parse(out)).toEqual({ refused: [401, "string"] });
		} finally {
			bot?.kill();
			rmSync(folder, { recursive: true, force: true });
		}
	}, 120_000);
});
