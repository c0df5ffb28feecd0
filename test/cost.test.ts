// docs/API.md cost per request, counted with test/meter.ts. Each case runs once to
// warm the isolate (app and user memos), then is measured. The COST lines are
// read by `npm run bench` for bench/RESULTS.md.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CallbackDrainer } from "../src/callbacks/drainer";
import { conversationObject, pairKey } from "../src/conversation/key";
import { asUser, connect, eventsOf } from "./channels";
import { type Cost, meter } from "./meter";
import { receiver, setSettings } from "./receiver";
import {
	ack,
	call,
	createApp,
	deleteConversation,
	history,
	recall,
	registerUser,
	send,
	type TestApp,
	unreadList,
	userToken,
} from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let aliceToken: string;
let bobToken: string;
/** What each request cost, with the statements its round trips carried. */
const measured: Record<string, Cost & { statements: number }> = {};

beforeAll(async () => {
	app = await createApp();
	[alice, bob] = [await registerUser(app), await registerUser(app)];
	[aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
});

afterAll(() => console.log(`COST ${JSON.stringify(measured)}`));

/** Runs `request` once to warm the isolate, then once measured; `arrange` runs before each, unmeasured. */
async function costOf(name: string, request: () => Promise<{ status: number }>, arrange = async () => {}): Promise<Cost> {
	await arrange();
	expect((await request()).status).toBe(200);
	await arrange();
	const m = meter();
	try {
		expect((await request()).status).toBe(200);
		measured[name] = { ...m.cost, statements: m.statements.count };
		return m.cost;
	} finally {
		m.stop();
	}
}

let txn = 1000;

describe("cost per request", () => {
	it("GET /healthz does no I/O", async () => {
		expect(await costOf("GET /healthz", () => call("/healthz"))).toEqual({ d1: 0, durableObject: 0, kv: 0 });
	});

	it("a send to one user is one Durable Object call and one D1 round trip", async () => {
		const cost = await costOf("send 1:1", () => send(app, aliceToken, { targets: [bob], content: "cost" }));
		expect(cost).toEqual({ d1: 1, durableObject: 1, kv: 0 });
	});

	it("with transaction_id it adds only the KV fast path (a read, and a write after success)", async () => {
		const cost = await costOf("send 1:1 + transaction_id", () =>
			send(app, aliceToken, { transaction_id: ++txn, targets: [bob], content: "cost" }),
		);
		expect(cost).toEqual({ d1: 1, durableObject: 1, kv: 2 });
	});

	it("a replayed transaction_id is answered from KV alone", async () => {
		const cost = await costOf("send replayed from KV", () =>
			send(app, aliceToken, { transaction_id: 999, targets: [bob], content: "again" }),
		);
		expect(cost).toEqual({ d1: 0, durableObject: 0, kv: 1 });
	});

	it("with send_rate_per_min set, a send adds one call to the sender's rate limiter and no D1 round trip", async () => {
		const limited = await createApp();
		const [from, to] = [await registerUser(limited), await registerUser(limited)];
		expect((await call("/app/settings", { app: limited, body: { send_rate_per_min: 1000 } })).status).toBe(200);
		const token = await userToken(limited, from);
		const cost = await costOf("send 1:1, rate limit set", () => send(limited, token, { targets: [to], content: "cost" }));
		expect(cost).toEqual({ d1: 1, durableObject: 2, kv: 0 });
	});

	it("a send to three users is one Durable Object call and one D1 round trip per conversation", async () => {
		const [c, d] = [await registerUser(app), await registerUser(app)];
		const cost = await costOf("send to 3 users", () => send(app, aliceToken, { targets: [bob, c, d], content: "cost" }));
		expect(cost).toEqual({ d1: 3, durableObject: 3, kv: 0 });
	});

	it("history is one D1 round trip", async () => {
		expect(await costOf("GET /message/conversation", () => history(app, bobToken, { opposite_id: alice }))).toEqual({
			d1: 1,
			durableObject: 0,
			kv: 0,
		});
	});

	it("a read does not write on its hot path: history writes the delivered position only when it moves", async () => {
		const [p, q] = [await registerUser(app), await registerUser(app)];
		const [pToken, qToken] = [await userToken(app, p), await userToken(app, q)];
		const read = () => history(app, qToken, { opposite_id: p });
		expect((await read()).status).toBe(200); // warms the isolate: nothing to deliver yet
		const sent = (await send(app, pToken, { targets: [q], content: "to deliver" })).body.msg_ids[0];
		const m = meter();
		try {
			expect((await read()).status).toBe(200);
			expect(m.writes).toEqual(["UPDATE conversation_members SET"]);
			expect(m.cost).toEqual({ d1: 2, durableObject: 0, kv: 0 });
			m.reset();
			// The same page again, and the peer's own read: one round trip, nothing written.
			expect((await read()).status).toBe(200);
			const seenBySender = await history(app, pToken, { opposite_id: q });
			expect(m.writes).toEqual([]);
			expect(m.cost).toEqual({ d1: 2, durableObject: 0, kv: 0 });
			expect(seenBySender.body.data.messages[0]).toMatchObject({ msg_id: sent, status: "DELIVERED" });
		} finally {
			m.stop();
		}
	});

	it("a group's history never writes (its own messages are DELIVERED, docs/API.md)", async () => {
		const member = await registerUser(app);
		const memberToken = await userToken(app, member);
		const group = (await call("/group/create", { app, token: aliceToken, body: { user_list: [member] } })).body.data.group_id;
		const read = () => history(app, memberToken, { opposite_id: group });
		expect((await read()).status).toBe(200);
		expect((await send(app, aliceToken, { type: 2, targets: [group], content: "to the group" })).status).toBe(200);
		const m = meter();
		try {
			expect((await read()).body.data.messages).toHaveLength(1);
			expect(m.writes).toEqual([]);
			expect(m.cost).toEqual({ d1: 1, durableObject: 0, kv: 0 });
		} finally {
			m.stop();
		}
	});

	it("history read by the admin acting as a user is one D1 round trip", async () => {
		const asBob = () => call("/message/conversation", { app, headers: { user_id: String(bob) }, query: { opposite_id: alice } });
		expect(await costOf("GET /message/conversation (admin + user_id)", asBob)).toEqual({ d1: 1, durableObject: 0, kv: 0 });
	});

	it("the unread list is one D1 round trip", async () => {
		expect(await costOf("GET /message/unread", () => unreadList(app, bobToken))).toEqual({ d1: 1, durableObject: 0, kv: 0 });
	});

	it("ack is one Durable Object call and one D1 round trip", async () => {
		const [msgId] = (await send(app, aliceToken, { targets: [bob], content: "ack me" })).body.msg_ids;
		expect(await costOf("GET /message/ack", () => ack(app, bobToken, alice, msgId))).toEqual({ d1: 1, durableObject: 1, kv: 0 });
	});

	it("recall by the sender is one Durable Object call and one D1 round trip", async () => {
		const [msgId] = (await send(app, aliceToken, { targets: [bob], content: "recall me" })).body.msg_ids;
		expect(await costOf("POST /message/recall", () => recall(app, aliceToken, bob, msgId))).toEqual({ d1: 1, durableObject: 1, kv: 0 });
	});

	it("delete conversation is one Durable Object call and one D1 round trip", async () => {
		// Each round deletes a conversation that a new message brought back.
		const bringBack = async () => void (await send(app, aliceToken, { targets: [bob], content: "back" }));
		const remove = () => deleteConversation(app, bobToken, alice);
		expect(await costOf("DELETE /message/conversation", remove, bringBack)).toEqual({ d1: 1, durableObject: 1, kv: 0 });
	});

	it("a send into a group of 1,000 members costs the same D1 round trips and DO calls as into a group of 3", async () => {
		const list = Array.from({ length: 1000 }, (_, i) => ({ username: `member-${i}`, password: "secret-pw" }));
		const members: number[] = [];
		for (let i = 0; i < list.length; i += 100) {
			const reply = await call("/user/register/batch", { app, body: { list: list.slice(i, i + 100) } });
			members.push(...reply.body.data.map((r: any) => r.user_id));
		}
		const big = (await call("/group/create", { app, token: aliceToken, body: { user_list: members.slice(0, 999) } })).body.data;
		const small = (await call("/group/create", { app, token: aliceToken, body: { user_list: [bob, members[999]] } })).body.data;
		expect([big.count, small.count]).toEqual([1000, 3]);
		const toGroup = (groupId: number) => () => send(app, aliceToken, { type: 2, targets: [groupId], content: "to everyone" });
		const costBig = await costOf("send into a group of 1,000", toGroup(big.group_id));
		const costSmall = await costOf("send into a group of 3", toGroup(small.group_id));
		expect(costBig).toEqual(costSmall);
		// One write batch: the group's object checked the sender's membership on the warm-up send and keeps it
		// (it runs every membership change itself, so a kick cannot pass it: groups.test.ts).
		expect(costSmall).toEqual({ d1: 1, durableObject: 1, kv: 0 });
		const [entry] = (await unreadList(app, await userToken(app, members[500] as number))).body.data;
		expect(entry).toMatchObject({ conversation_id: { uid: big.group_id }, num: 2 });

		// docs/API.md "Real-time delivery" With 10 of the 1,000 online: the same D1 round trips, and one push per online member — never one per member.
		const online = await Promise.all(members.slice(0, 10).map(async (member) => connect(asUser(app, await userToken(app, member)))));
		const m = meter();
		try {
			expect((await toGroup(big.group_id)()).status).toBe(200);
			for (const channel of online) await eventsOf(channel, 1);
			measured["send into a group of 1,000, 10 online"] = { ...m.cost, statements: m.statements.count };
			expect(m.cost).toEqual({ d1: 1, durableObject: 1 + 10, kv: 0 });
		} finally {
			m.stop();
			for (const channel of online) channel.close();
		}
	});

	it("with callbacks on, a send is still one DO call and one D1 round trip; its callback is delivered after the answer", async () => {
		const hooked = await createApp();
		const [ann, ben] = [await registerUser(hooked), await registerUser(hooked)];
		const annToken = await userToken(hooked, ann);
		const hook = receiver();
		await setSettings(hooked, { callback_url: hook.url });
		// The drainer delivers after the answer, in the background: held back here so the meter sees the send alone.
		const alarm = vi.spyOn(CallbackDrainer.prototype, "owe").mockResolvedValue(undefined);
		try {
			const cost = await costOf("send 1:1 with callbacks on", () => send(hooked, annToken, { targets: [ben], content: "hooked" }));
			expect(cost).toEqual({ d1: 1, durableObject: 1, kv: 0 });
			expect(hook.received).toEqual([]); // the answer did not wait for a callback
		} finally {
			alarm.mockRestore();
		}
		// Woken, the drainer reads what is owed from D1 and delivers both.
		const conversationKey = pairKey(ann, ben);
		await conversationObject(env, hooked.appId, conversationKey).deliverCallbacks({ appId: hooked.appId, conversationKey });
		expect((await hook.count(2)).map((r) => r.body.content)).toEqual(["hooked", "hooked"]);
	});

	it("the group reads (member_list, user_joined) are one D1 round trip each", async () => {
		const group = (await call("/group/create", { app, token: aliceToken, body: { user_list: [bob] } })).body.data.group_id;
		const list = () => call("/group/member_list", { app, token: bobToken, query: { group_id: group, limit: 1 } });
		expect(await costOf("GET /group/member_list", list)).toEqual({ d1: 1, durableObject: 0, kv: 0 });
		expect(await costOf("GET /group/user_joined", () => call("/group/user_joined", { app, token: bobToken }))).toEqual({
			d1: 1,
			durableObject: 0,
			kv: 0,
		});
	});
});
