// A locked database is a 503, not a 500 (docs/API.md, "503 or 500"): another
// process holds the dev server's local D1 files in an exclusive transaction,
// as a concurrent writer would. Every request that must write is answered 503
// with Retry-After (never 500); reads go on (the files are in WAL mode, where
// a writer does not block readers); once the lock is let go the refused
// requests succeed, and nothing of them was written.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { admin, request } from "./client";

const run = Date.now().toString(36);
let alice: number;
let bob: number;
let group: number;
let aliceHeaders: Record<string, string>;

/** Holds every app database of the dev server in a write transaction, as another process would, until `release()`. */
function lockDatabases() {
	const dir = join(inject("stateDir"), "v3", "d1", "miniflare-D1DatabaseObject");
	const held = readdirSync(dir)
		.filter((f) => /^[0-9a-f]{64}\.sqlite$/.test(f))
		.map((f) => {
			// The server may be in the middle of a write (a scheduled sweep): wait for our turn.
			const db = new DatabaseSync(join(dir, f), { timeout: 5_000 });
			db.exec("BEGIN EXCLUSIVE");
			return db;
		});
	expect(held.length).toBeGreaterThanOrEqual(2);
	return {
		release() {
			for (const db of held) {
				db.exec("ROLLBACK");
				db.close();
			}
		},
	};
}

beforeAll(async () => {
	const list = [
		{ username: `locked-a-${run}`, password: "alice-password" },
		{ username: `locked-b-${run}`, password: "bob-password" },
	];
	[alice, bob] = (await request("POST", "/user/register/batch", { headers: admin(), body: { list } })).body.data.map((r: any) => r.user_id);
	const token = (
		await request("POST", "/token/user", { headers: { app_id: "1" }, body: { name: `locked-a-${run}`, password: "alice-password" } })
	).body.data.token;
	aliceHeaders = { app_id: "1", "access-token": token };
	group = (await request("POST", "/group/create", { headers: aliceHeaders, body: { user_list: [bob] } })).body.data.group_id;
	// Warm: the Worker has met both users and the group (a locked request then reaches the objects too).
	await request("POST", "/message/send", { headers: aliceHeaders, body: { type: 1, targets: [bob], content_type: 0, content: "before" } });
	await request("POST", "/message/send", {
		headers: aliceHeaders,
		body: { type: 2, targets: [group], content_type: 0, content: "before" },
	});
});

describe("e2e: a locked database", () => {
	it("writes (sends, group operations, acks) are 503 with Retry-After while another writer holds it, never 500; reads go on; afterwards the writes work and nothing was half-written", async () => {
		const writes: [string, () => ReturnType<typeof request>][] = [
			[
				"send",
				() =>
					request("POST", "/message/send", {
						headers: aliceHeaders,
						body: { type: 1, targets: [bob], content_type: 0, content: "locked 1:1" },
					}),
			],
			[
				"group send",
				() =>
					request("POST", "/message/send", {
						headers: aliceHeaders,
						body: { type: 2, targets: [group], content_type: 0, content: "locked group" },
					}),
			],
			["group create", () => request("POST", "/group/create", { headers: aliceHeaders, body: { name: `locked-${run}` } })],
			["group leave", () => request("POST", "/group/leave", { headers: { ...admin(), user_id: String(bob) }, query: { group_id: group } })],
			["ack", () => request("GET", "/message/ack", { headers: { ...admin(), user_id: String(bob) }, query: { conversation_id: alice } })],
			[
				"register",
				() => request("POST", "/user/register/v2", { headers: admin(), body: { username: `locked-c-${run}`, password: "carol-password" } }),
			],
		];
		const reads: [string, () => ReturnType<typeof request>][] = [
			["history", () => request("GET", "/message/conversation", { headers: aliceHeaders, query: { opposite_id: bob } })],
			["unread", () => request("GET", "/message/unread", { headers: aliceHeaders })],
			["group members", () => request("GET", "/group/member_list", { headers: aliceHeaders, query: { group_id: group } })],
		];
		const lock = lockDatabases();
		const answers: { what: string; status: number; retryAfter: string | null }[] = [];
		try {
			for (const [what, attempt] of [...writes, ...reads]) {
				const reply = await attempt();
				answers.push({ what, status: reply.status, retryAfter: reply.headers.get("retry-after") });
			}
		} finally {
			lock.release();
		}
		for (const a of answers.slice(0, writes.length)) expect(a, a.what).toEqual({ what: a.what, status: 503, retryAfter: "1" });
		for (const a of answers.slice(writes.length)) expect(a, a.what).toEqual({ what: a.what, status: 200, retryAfter: null });

		// Let go: none of the refused writes is there, and they work now.
		const history = await request("GET", "/message/conversation", { headers: aliceHeaders, query: { opposite_id: bob } });
		expect(history.body.data.messages.map((m: any) => m.content)).toEqual(["before"]);
		const groupHistory = await request("GET", "/message/conversation", { headers: aliceHeaders, query: { opposite_id: group } });
		expect(groupHistory.body.data.messages.map((m: any) => m.content)).toEqual(["before"]);
		expect((await request("GET", "/group/user_joined", { headers: aliceHeaders })).body.data).toEqual([group]);
		const members = await request("GET", "/group/member_list", { headers: aliceHeaders, query: { group_id: group } });
		expect(members.body.data.map((m: any) => m.user_id).sort()).toEqual([alice, bob].sort());
		const unread = await request("GET", "/message/unread", { headers: { ...admin(), user_id: String(bob) } });
		expect(unread.body.data.find((e: any) => e.conversation_id.uid === alice)).toMatchObject({ num: 1 });
		for (const [what, attempt] of writes) expect((await attempt()).status, what).toBe(200);
	});
});
