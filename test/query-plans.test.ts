import { createExecutionContext, createScheduledController, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { conversationObject, pairKey } from "../src/conversation/key";
import worker from "../src/index";
import { receiver, setSettings } from "./receiver";
import {
	ack,
	call,
	createApp,
	d1Preparers,
	deleteConversation,
	history,
	recall,
	registerUser,
	send,
	TABLES,
	type TestApp,
	unreadList,
	userToken,
} from "./support";

const seen = new Set<string>();
/** Set-up requests that did not answer 200: a failed one would leave its queries out unseen. */
const failedSetUp: string[] = [];

/** Runs every endpoint once while recording each SQL text the service prepares. */
beforeAll(async () => {
	const app: TestApp = await createApp();
	const spies = d1Preparers.map((d1) => {
		const realPrepare = d1.prepare;
		return vi.spyOn(d1, "prepare").mockImplementation(function (this: D1DatabaseSession, query: string) {
			seen.add(query);
			return realPrepare.call(this, query);
		});
	});
	const realFetch = worker.fetch;
	const fetchSpy = vi.spyOn(worker, "fetch").mockImplementation(async (request, ...rest) => {
		const response = await realFetch(request, ...rest);
		if (response.status !== 200) failedSetUp.push(`${request.method} ${new URL(request.url).pathname} → ${response.status}`);
		return response;
	});
	const [alice, bob] = [await registerUser(app, "plan-a", "secret-pw"), await registerUser(app)];
	await call("/user/register/batch", { app, body: { list: [{ username: "plan-b", password: "secret-pw" }] } });
	await call("/token/user", { app, token: null, body: { name: "plan-a", password: "secret-pw" } });
	await call("/token/id", { app, token: null, body: { user_id: alice, password: "secret-pw" } });
	const token = await userToken(app, alice);
	await send(app, token, { targets: [bob], content: "plan" });
	await send(app, token, { transaction_id: 9, targets: [bob], content: "plan" });
	await env.DEDUPE.delete(`txn/${app.appId}/${alice}/9`);
	await send(app, token, { transaction_id: 9, targets: [bob], content: "plan" }); // the D1 dedupe path
	await history(app, token, { opposite_id: bob, msg_id_start: 0 });
	await history(app, token, { opposite_id: bob, msg_id_start: 5 });
	await call("/message/conversation", { app, headers: { user_id: String(bob) }, query: { opposite_id: alice } });
	const bobToken = await userToken(app, bob);
	const [mid] = (await send(app, token, { targets: [bob], content: "edit me" })).body.msg_ids;
	await send(app, token, { targets: [bob], content_type: 11, related_mid: mid, content: "+", transaction_id: 10 });
	await send(app, token, { targets: [bob], content_type: 12, related_mid: mid, content: "replaced" });
	await send(app, bobToken, { targets: [alice], content_type: 9, related_mid: mid });
	await ack(app, bobToken, alice, mid);
	await recall(app, token, bob, mid);
	await recall(app, undefined, alice, mid);
	await call("/message/notify", { app, body: { type: 1, content_type: 0, targets: [bob], content: "system" } });
	await unreadList(app, bobToken, { limit: 1 });
	const first = await unreadList(app, bobToken, { limit: 1 });
	await unreadList(app, bobToken, { limit: 1, cursor: first.body.cursor });
	await deleteConversation(app, bobToken, alice);
	const group = (await call("/group/create", { app, token, body: { name: "plans", user_list: [bob] } })).body.data.group_id;
	const carol = await registerUser(app);
	await call("/group/invite", { app, token, body: { group_id: group, user_list: [carol] } });
	const [gm] = (await send(app, token, { type: 2, targets: [group], content: "group" })).body.msg_ids;
	await send(app, token, { type: 2, targets: [group], content_type: 11, related_mid: gm, content: "+" });
	await send(app, undefined, { type: 2, from_user_id: alice, targets: [group], content_type: 12, related_mid: gm, content: "admin" });
	await history(app, bobToken, { opposite_id: group });
	await ack(app, bobToken, group, gm);
	await recall(app, undefined, group, gm, { group_id: String(group) });
	await call("/group/member_list", { app, token, query: { group_id: group, limit: 1 } });
	await call("/group/member_list", { app, token, query: { group_id: group, limit: 1, cursor: alice } });
	await call("/group/user_joined", { app, token: bobToken });
	await call("/group/kick", { app, token, body: { group_id: group, user_list: [carol] } });
	await call("/group/leave", { app, method: "POST", token: bobToken, query: { group_id: group } });
	await call("/group/destroy", { app, method: "POST", token, query: { group_id: group } });
	await callbacks();
	for (const spy of spies) spy.mockRestore();
	fetchSpy.mockRestore();
});

/** Every callback path: owed by each kind of write, delivered, retried, dead-lettered, listed, redelivered, swept, purged. */
async function callbacks() {
	const app = await createApp();
	const hook = receiver((_, n) => new Response("", { status: n === 1 ? 500 : 200 }));
	await setSettings(app, {
		callback_url: hook.url,
		callback_events: ["CHAT", "GROUPCHAT", "APPEND", "REPLACE", "RECALL", "READ"],
		callback_max_attempts: 1,
	});
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	const [token, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
	const [mid] = (await send(app, token, { targets: [bob], content: "called back" })).body.msg_ids;
	await send(app, token, { targets: [bob], content_type: 11, related_mid: mid, content: "+" });
	await send(app, token, { targets: [bob], content_type: 12, related_mid: mid, content: "replaced" });
	await ack(app, bobToken, alice, mid);
	await send(app, bobToken, { targets: [alice], content_type: 9 as number, related_mid: mid });
	await recall(app, token, bob, mid);
	const group = (await call("/group/create", { app, token, body: { user_list: [bob] } })).body.data.group_id;
	await send(app, token, { type: 2, targets: [group], content: "group" });
	await hook.count(6); // the first CHAT is dead-lettered at its first failure
	await setSettings(app, { callback_max_attempts: 2 });
	await call("/app/settings", { app });
	const failed = await vi.waitFor(async () => {
		const reply = await call("/app/callbacks/failed", { app, query: { limit: 1 } });
		if (reply.body.data.length === 0) throw new Error("not dead-lettered yet");
		return reply;
	});
	await call("/app/callbacks/failed", { app, query: { limit: 1, cursor: failed.body.cursor || "1/1" } });
	await call("/app/callbacks/redeliver", { app, body: { webhook_ids: ["0".repeat(32)] } });
	await call("/app/callbacks/redeliver", { app, body: { all: true } });
	await hook.count(7);
	// Later, the drainer records what it delivered (its alarm; the clock moved on).
	const later = Date.now() + 10_000;
	const clockSpy = vi.spyOn(clock, "now").mockImplementation(() => later);
	await runDurableObjectAlarm(conversationObject(env, app.appId, pairKey(alice, bob)));
	clockSpy.mockRestore();
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
	await waitOnExecutionContext(ctx);
}

afterAll(() => vi.restoreAllMocks());

describe("Query plans", () => {
	it("every set-up request succeeded, so each path's queries ran", () => {
		expect(failedSetUp).toEqual([]);
	});

	it("every named query of the message, dedupe and group paths was captured", () => {
		for (const part of [
			"INSERT INTO messages",
			"INSERT INTO send_dedupe",
			'from "send_dedupe"',
			"UPDATE messages SET recalled = 1",
			"UPDATE conversation_members SET",
			"INSERT INTO conversation_members",
			"INSERT INTO group_members",
			"DELETE FROM group_members",
			"UPDATE groups SET destroyed = 1",
			"FROM group_members",
			"INSERT INTO accounts",
			'from "users"',
		]) {
			expect(
				[...seen].some((q) => q.includes(part)),
				part,
			).toBe(true);
		}
	});

	it("the service's queries were captured", () => {
		expect(seen.size).toBeGreaterThanOrEqual(8);
		for (const table of ["apps", "users", "messages", "conversation_members", "send_dedupe", "callback_outbox"]) {
			expect(
				[...seen].some((q) => new RegExp(`\\b${table}\\b`).test(q)),
				table,
			).toBe(true);
		}
	});

	it("every callback query was captured: owed, read, recorded (deleted) delivered, retried or dead, requeued, swept, purged", () => {
		for (const part of [
			"INSERT INTO callback_outbox",
			"FROM callback_outbox\n\t\t\tWHERE app_id = ? AND conversation_key = ?",
			"DELETE FROM callback_outbox WHERE id IN (SELECT value FROM json_each",
			"SET state = 'dead'",
			"SET state = 'pending'",
			"INDEXED BY callback_outbox_due",
			"DELETE FROM callback_outbox",
			"DELETE FROM send_dedupe",
		]) {
			expect(
				[...seen].some((q) => q.includes(part)),
				part,
			).toBe(true);
		}
	});

	it("no query scans a table: every one uses an index", async () => {
		for (const query of seen) {
			const params = (query.match(/\?/g) ?? []).map(() => null);
			const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query}`)
				.bind(...params)
				.all<{ detail: string }>();
			const details = plan.results.map((r) => r.detail);
			// A full scan, or a walk over everything of one app (an index used by app_id alone) — unless it is
			// a page read in the index's own order (LIMIT, no sort), which stops after the page.
			const orderedPage = /\bLIMIT\b/.test(query) && !details.some((d) => d.includes("TEMP B-TREE"));
			const scans = details.filter(
				(d) => TABLES.some((t) => new RegExp(`^SCAN ${t}\\b`).test(d)) || (/\(app_id=\?\)$/.test(d) && !orderedPage),
			);
			expect(scans, `${query}\n${details.join("\n")}`).toEqual([]);
		}
	});
});
