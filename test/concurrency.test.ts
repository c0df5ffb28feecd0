import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { pairKey } from "../src/conversation/key";
import { sendQueued } from "../src/conversation/send";
import { database } from "../src/db/client";
import {
	ack,
	allMessages,
	call,
	createApp,
	d1Sessions,
	directSend,
	entryFor,
	history,
	recall,
	registerUser,
	send,
	type TestApp,
	unreadOf,
	userToken,
} from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

afterEach(() => vi.restoreAllMocks());

/**
 * Local D1 is so fast that writes rarely interleave by chance. Delay every
 * batch by a random few milliseconds, so that anything not serialised by the
 * conversation object would commit out of order (any await inside an object that is
 * not its own storage lets other calls in).
 */
function slowD1() {
	const d1 = d1Sessions;
	const realBatch = d1.batch;
	vi.spyOn(d1, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
		await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
		return realBatch.call(this, statements);
	});
}

function expectOk(status: number, then: () => void) {
	expect(status).toBe(200);
	then();
}

/** A user's read position (stored) and unread count (as their unread list shows it). */
const side = async (userId: number, peerId: number) => {
	const row = await env.DB.prepare("SELECT read_position FROM conversation_members WHERE app_id = ? AND user_id = ? AND peer_id = ?")
		.bind(app.appId, userId, peerId)
		.first<{ read_position: number }>();
	return row && { read_position: row.read_position, unread_count: await unreadOf(app, userId, peerId) };
};

describe("Conversation ordering under concurrency", () => {
	it("200 concurrent sends into one conversation: 200 messages, ids strictly increasing, unread exactly 200", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		slowD1();
		// Readers page the newest messages while the sends commit (docs/API.md: never a message before the ones below it).
		const pages: number[][] = [];
		let storming = true;
		const reader = async () => {
			while (storming) {
				const page = await history(app, bobToken, { opposite_id: alice, msg_id_start: 0, limit: 50 });
				expect(page.status).toBe(200);
				pages.push(page.body.data.messages.map((m: { msg_id: number }) => m.msg_id));
				// A history read is one statement, not a batch, so slowD1 does not pace it: yield to the
				// delayed batches' timers, which a loop of fast reads would otherwise starve in workerd.
				await new Promise((resolve) => setTimeout(resolve, 1));
			}
		};
		const readers = [reader(), reader(), reader()];
		const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => send(app, aliceToken, { targets: [bob], content: `m${i}` })));
		storming = false;
		await Promise.all(readers);
		expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
		const ids = replies.map((r) => r.body.msg_ids[0] as number);
		expect(new Set(ids).size).toBe(200);

		const seen = await allMessages(app, bobToken, alice, 37);
		expect(seen).toHaveLength(200);
		const seenIds = seen.map((m) => m.msg_id);
		for (let i = 1; i < seenIds.length; i++) expect(seenIds[i]).toBeLessThan(seenIds[i - 1]);
		expect(new Set(seenIds)).toEqual(new Set(ids));
		// Each send's answer names the message it sent.
		const contentOf = new Map(seen.map((m) => [m.msg_id, m.content]));
		for (const [i, id] of ids.entries()) expect(contentOf.get(id)).toBe(`m${i}`);
		// Every page a reader saw is a run of consecutive messages of the final history, newest first: no gap.
		const position = new Map(seenIds.map((id, i) => [id, i]));
		expect(pages.length).toBeGreaterThan(3);
		for (const page of pages) {
			const at = page.map((id) => position.get(id) as number);
			expect(at).toEqual(at.map((_, k) => (at[0] as number) + k));
			if (page.length > 0 && page.length < 50) expect(at.at(-1)).toBe(seenIds.length - 1); // a short page reaches the oldest
		}
		expect((await side(bob, alice))?.unread_count).toBe(200);
	});

	it("200 concurrent sends from both users: every unread count equals its definition", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		slowD1();
		const replies = await Promise.all(
			Array.from({ length: 200 }, (_, i) =>
				i % 2 ? send(app, bobToken, { targets: [alice], content: `b${i}` }) : send(app, aliceToken, { targets: [bob], content: `a${i}` }),
			),
		);
		expect(replies.every((r) => r.status === 200)).toBe(true);

		const seen = (await allMessages(app, aliceToken, bob)).reverse(); // oldest first
		expect(seen).toHaveLength(200);
		for (let i = 1; i < seen.length; i++) expect(seen[i].msg_id).toBeGreaterThan(seen[i - 1].msg_id);
		// Each user's read position is their own last message; unread = the peer's messages after it.
		for (const [me, peer] of [
			[alice, bob],
			[bob, alice],
		] as const) {
			const mine = seen.filter((m) => m.from_xid.uid === me);
			const lastOwn = mine[mine.length - 1]?.msg_id ?? 0;
			const expected = seen.filter((m) => m.from_xid.uid === peer && m.msg_id > lastOwn).length;
			expect(await side(me, peer)).toEqual({ read_position: lastOwn, unread_count: expected });
		}
	});

	it("while one user sends 100 messages the other acks and the sender recalls, concurrently: unread lists and histories equal the definitions", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		slowD1();
		const acked: number[] = [];
		const recalled: number[] = [];
		await Promise.all(
			Array.from({ length: 100 }, async (_, i) => {
				const reply = await send(app, aliceToken, { targets: [bob], content: `c${i}` });
				expect(reply.status).toBe(200);
				const [id] = reply.body.msg_ids;
				const follow: Promise<void>[] = [];
				if (i % 3 === 0) follow.push(ack(app, bobToken, alice, id).then((r) => expectOk(r.status, () => acked.push(id))));
				if (i % 5 === 0) follow.push(recall(app, aliceToken, bob, id).then((r) => expectOk(r.status, () => recalled.push(id))));
				await Promise.all(follow);
			}),
		);
		vi.restoreAllMocks();

		const seen = await allMessages(app, bobToken, alice);
		expect(seen).toHaveLength(100);
		expect(
			seen
				.filter((m) => m.recalled)
				.map((m) => m.msg_id)
				.sort(),
		).toEqual([...recalled].sort());
		const bobRead = Math.max(...acked);
		const expectedBob = seen.filter((m) => m.msg_id > bobRead && !m.recalled).length;
		expect(await entryFor(app, bobToken, alice)).toMatchObject({ num: expectedBob, last_msg_id: seen[0].msg_id });
		expect(await entryFor(app, aliceToken, bob)).toMatchObject({ num: 0, last_msg_id: seen[0].msg_id });
		for (const m of await allMessages(app, aliceToken, bob)) if (m.msg_id <= bobRead) expect(m.status).toBe("READ");
	});

	it("sends that queue up in one conversation reach D1 together (group commit), each with its own id", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		slowD1();
		const batches = vi.spyOn(d1Sessions, "batch");
		const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send(app, aliceToken, { targets: [bob], content: `q${i}` })));
		const writes = batches.mock.calls.length;
		vi.restoreAllMocks();
		expect(replies.every((r) => r.status === 200)).toBe(true);
		expect(writes).toBeLessThan(50);
		const seen = await allMessages(app, bobToken, alice);
		expect(new Set(seen.map((m) => m.msg_id))).toEqual(new Set(replies.map((r) => r.body.msg_ids[0])));
		expect((await side(bob, alice))?.unread_count).toBe(50);
	});
});

describe("membership changes under concurrency", () => {
	it("20 concurrent invites and kicks of overlapping users: every answer is a real change, and they add up to the final membership", async () => {
		const owner = await registerUser(app);
		const ownerToken = await userToken(app, owner);
		const users = [await registerUser(app), await registerUser(app), await registerUser(app), await registerUser(app)];
		const created = await call("/group/create", { app, token: ownerToken, body: { name: "churn" } });
		const groupId = created.body.data.group_id as number;
		slowD1();
		// Each request names an overlapping pair of users: (0,1), (1,2), (2,3), (3,0), alternating invite and kick.
		const requests = Array.from({ length: 20 }, (_, i) => ({
			path: i % 2 === 0 ? "/group/invite" : "/group/kick",
			users: [users[i % 4], users[(i + 1) % 4]] as number[],
		}));
		const replies = await Promise.all(
			requests.map((r) => call(r.path, { app, token: ownerToken, body: { group_id: groupId, user_list: r.users } })),
		);
		const net = new Map(users.map((u) => [u, 0]));
		for (const [i, reply] of replies.entries()) {
			expect(reply.status).toBe(200);
			for (const row of reply.body.data as { user_id: number; result: string }[]) {
				if (row.result === "success") net.set(row.user_id, (net.get(row.user_id) ?? 0) + (requests[i]?.path === "/group/invite" ? 1 : -1));
			}
		}
		// Starting outside, a user's successful joins and removals alternate: joins minus removals is 1 for a member, else 0.
		const members = await call("/group/member_list", { app, token: ownerToken, query: { group_id: groupId } });
		const final = new Set((members.body.data as { user_id: number }[]).map((m) => m.user_id));
		for (const user of users) expect(net.get(user)).toBe(final.has(user) ? 1 : 0);
	});

	it("the same member leaving twice at once: one 200, one 404", async () => {
		const owner = await registerUser(app);
		const member = await registerUser(app);
		const created = await call("/group/create", { app, token: await userToken(app, owner), body: { name: "exit", user_list: [member] } });
		const groupId = created.body.data.group_id as number;
		const memberToken = await userToken(app, member);
		slowD1();
		const replies = await Promise.all(
			[0, 1].map(() => call("/group/leave", { app, method: "POST", token: memberToken, query: { group_id: groupId } })),
		);
		expect(replies.map((r) => r.status).sort()).toEqual([200, 404]);
	});
});

describe("message timestamps are taken where the order is decided", () => {
	const timestamps = async (appId: number, key: string) =>
		(
			await env.DB.prepare("SELECT timestamp FROM messages WHERE app_id = ? AND conversation_key = ? ORDER BY id")
				.bind(appId, key)
				.all<{ timestamp: number }>()
		).results.map((r) => r.timestamp);
	const nonDecreasing = (list: number[]) => list.every((t, i) => i === 0 || t >= (list[i - 1] as number));

	it("concurrent sends under a clock that jumps back and forth: timestamp never decreases along msg_id (property)", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 2, maxLength: 20 }), async (jumps) => {
				vi.restoreAllMocks();
				const [alice, bob] = [await registerUser(app), await registerUser(app)];
				const tokens = [await userToken(app, alice), await userToken(app, bob)];
				const base = Date.now();
				let tick = 0;
				vi.spyOn(clock, "now").mockImplementation(() => base + (jumps[tick++ % jumps.length] as number));
				slowD1();
				const replies = await Promise.all(
					Array.from({ length: 24 }, (_, i) => send(app, tokens[i % 2], { targets: [i % 2 ? alice : bob], content: `t${i}` })),
				);
				expect(replies.every((r) => r.status === 200)).toBe(true);
				const key = pairKey(alice, bob);
				const stamps = await timestamps(app.appId, key);
				expect(stamps).toHaveLength(24);
				expect(nonDecreasing(stamps)).toBe(true);
			}),
			{ numRuns: 15 },
		);
	});

	it("a writer whose clock is behind D1's newest message (a cold object elsewhere) still never goes below it", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		expect((await send(app, await userToken(app, alice), { targets: [bob], content: "now" })).status).toBe(200);
		const key = pairKey(alice, bob);
		const sent = await sendQueued(database(env.DB), [directSend(app, bob, alice, "from a slow clock", { timestamp: Date.now() - 60_000 })]);
		expect(sent.results[0]?.ok).toBe(true);
		const stamps = await timestamps(app.appId, key);
		expect(stamps).toHaveLength(2);
		expect(stamps[1]).toBe(stamps[0]);
		expect(sent.written.map((m) => m.timestamp)).toEqual([stamps[0]]);
	});
});
