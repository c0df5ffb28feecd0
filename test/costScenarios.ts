// What each operation costs in the units Cloudflare bills (docs/COSTS.md),
// measured through the public HTTP surface with test/meter.ts. Used by
// test/billing.test.ts (the bounds, in CI) and bench/cost (the report,
// `npm run bench:cost`), so both measure the same thing.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { clock } from "../src/clock";
import { groupKey, pairKey } from "../src/conversation/key";
import { asUser, type Channel, connect, eventsOf } from "./channels";
import { meter, type Units } from "./meter";
import { receiver, setSettings } from "./receiver";
import {
	ack,
	call,
	createApp,
	deleteConversation,
	history,
	type Reply,
	recall,
	send,
	type TestApp,
	unreadList,
	userToken,
} from "./support";

export type Measured = Record<string, Units>;

/** Waits for what a request does after its answer (pushes, callbacks). */
const settle = (ms = 100) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Measures `request` alone: `arrange` runs first, unmeasured; `after` runs
 * measured (what the request leaves to do: its pushes, its callback delivered
 * and recorded).
 */
async function measure(into: Measured, name: string, request: () => Promise<Reply>, after: () => Promise<void> = () => settle()) {
	const m = meter();
	try {
		const reply = await request();
		if (reply.status !== 200) throw new Error(`${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
		await after();
		into[name] = { ...m.units };
		return reply;
	} finally {
		m.stop();
	}
}

async function users(app: TestApp, n: number): Promise<number[]> {
	const ids: number[] = [];
	for (let i = 0; i < n; i += 100) {
		const list = Array.from({ length: Math.min(100, n - i) }, (_, k) => ({
			username: `u${i + k}-${crypto.randomUUID().slice(0, 8)}`,
			password: "secret-pw",
		}));
		const reply = await call("/user/register/batch", { app, body: { list } });
		ids.push(...reply.body.data.map((r: { user_id: number }) => r.user_id));
	}
	return ids;
}

/** `count` messages from `from` to `to`, sent concurrently in waves (the conversation's object commits them in batches). */
async function backlog(app: TestApp, fromToken: string, to: number, count: number) {
	for (let i = 0; i < count; i += 500) {
		const wave = Array.from({ length: Math.min(500, count - i) }, (_, k) =>
			send(app, fromToken, { targets: [to], content: `backlog ${i + k}` }),
		);
		for (const reply of await Promise.all(wave)) if (reply.status !== 200) throw new Error(`backlog: ${JSON.stringify(reply.body)}`);
	}
}

/** Delivers a conversation's owed callbacks and records them, as its object does about 5 s after the last one. */
async function deliverAndRecord(appId: number, conversationKey: string, hook: ReturnType<typeof receiver>, expected: number) {
	await hook.count(expected);
	const now = Date.now();
	const tick = vi.spyOn(clock, "now").mockReturnValue(now + 6_000);
	try {
		// Not through getByName: the meter wraps those stubs, and the alarm runner needs the stub itself.
		await runDurableObjectAlarm(env.CONVERSATION.get(env.CONVERSATION.idFromName(`${appId}/${conversationKey}`)));
	} finally {
		tick.mockRestore();
	}
}

export type ScenarioOptions = {
	/** Group sizes to measure (the bench: 10, 100 and 1,000). */
	groupSizes: number[];
	/** Unread conversations in the larger list (the bench: 200). */
	listSizes: number[];
	/** Unread messages in one conversation (the bench: 10,000). */
	backlogSize: number;
};

/** Runs every operation of the cost table once, warm (each kind is run once unmeasured first), and returns its units. */
export async function measureOperations(options: ScenarioOptions): Promise<Measured> {
	const out: Measured = {};
	const app = await createApp();
	const hooked = await createApp();
	const hook = receiver();
	await setSettings(hooked, { callback_url: hook.url });

	for (const [a, suffix] of [
		[app, ""],
		[hooked, ", callbacks on"],
	] as const) {
		const [alice, bob, warm] = await users(a, 3);
		const [aliceToken, bobToken] = [await userToken(a, alice as number), await userToken(a, bob as number)];
		const callbacks = a === hooked;
		const pair = pairKey(alice as number, bob as number);
		let delivered = 0;
		/** After a send or operation that owes one callback: delivered and recorded, measured with the request. */
		const owed = (conversationKey: string) => async () => {
			if (callbacks) await deliverAndRecord(a.appId, conversationKey, hook, ++delivered);
			else await settle();
		};
		// Warm the isolate (memos of the app, the users and the tokens), and start the conversation a "later" message goes to.
		await send(a, aliceToken, { targets: [warm], content: "warm" });
		if (callbacks) await deliverAndRecord(a.appId, pairKey(alice as number, warm as number), hook, ++delivered);
		await send(a, aliceToken, { targets: [bob], content: "the conversation's first" });
		if (callbacks) await deliverAndRecord(a.appId, pair, hook, ++delivered);

		const [fresh] = await users(a, 1);
		await measure(
			out,
			`1:1 send, first message${suffix}`,
			() => send(a, aliceToken, { targets: [fresh], content: "first" }),
			owed(pairKey(alice as number, fresh as number)),
		);
		const [m1] = (
			await measure(out, `1:1 send, later message${suffix}`, () => send(a, aliceToken, { targets: [bob], content: "later" }), owed(pair))
		).body.msg_ids;
		await measure(
			out,
			`1:1 send with transaction_id${suffix}`,
			() => send(a, aliceToken, { targets: [bob], content: "txn", transaction_id: Date.now() }),
			owed(pair),
		);
		await measure(out, `history read that delivers${suffix}`, () => history(a, bobToken, { opposite_id: alice as number }));
		await measure(out, `the same history read again${suffix}`, () => history(a, bobToken, { opposite_id: alice as number }));
		if (callbacks) continue; // reads, acks and deletes owe no callback with the default events
		await measure(out, "ack", () => ack(a, bobToken, alice as number, m1 as number));
		await measure(out, "recall", () => recall(a, aliceToken, bob as number, m1 as number));
		await measure(out, "delete conversation", () => deleteConversation(a, bobToken, alice as number));
	}

	// The unread list: of N conversations with one unread each, and of one conversation with a large backlog.
	for (const n of options.listSizes) {
		const [reader, ...peers] = await users(app, n + 1);
		const readerToken = await userToken(app, reader as number);
		for (let i = 0; i < peers.length; i += 50) {
			await Promise.all(
				peers.slice(i, i + 50).map(async (peer) => send(app, undefined, { from_user_id: peer, targets: [reader], content: "hello" })),
			);
		}
		await unreadList(app, readerToken, { limit: 500 }); // warm
		await measure(out, `unread list, ${n} conversations`, () => unreadList(app, readerToken, { limit: 500 }));
	}
	{
		const [reader, writer] = await users(app, 2);
		const [readerToken, writerToken] = [await userToken(app, reader as number), await userToken(app, writer as number)];
		await backlog(app, writerToken, reader as number, options.backlogSize);
		await unreadList(app, readerToken);
		await measure(out, `unread list, one conversation with ${options.backlogSize.toLocaleString("en")} unread`, () =>
			unreadList(app, readerToken),
		);
	}

	// Group sends: the group's object knows the sender after one send (warm), then one is measured; then with 10 online.
	for (const size of options.groupSizes) {
		for (const [a, suffix] of [
			[app, ""],
			[hooked, ", callbacks on"],
		] as const) {
			const [owner, ...members] = await users(a, size);
			const ownerToken = await userToken(a, owner as number);
			const group = (await call("/group/create", { app: a, token: ownerToken, body: { user_list: members } })).body.data.group_id as number;
			const callbacks = a === hooked;
			let delivered = hook.received.length;
			const owed = async () => {
				if (callbacks) await deliverAndRecord(a.appId, groupKey(group), hook, ++delivered);
				else await settle();
			};
			await send(a, ownerToken, { type: 2, targets: [group], content: "warm" });
			await owed();
			await measure(
				out,
				`group send, ${size} members${suffix}`,
				() => send(a, ownerToken, { type: 2, targets: [group], content: "to all" }),
				owed,
			);
			if (callbacks || size < 10) continue;
			const online: Channel[] = await Promise.all(
				members.slice(0, 10).map(async (member) => connect(asUser(a, await userToken(a, member)))),
			);
			await measure(
				out,
				`group send, ${size} members, 10 online`,
				() => send(a, ownerToken, { type: 2, targets: [group], content: "to all, some online" }),
				async () => {
					for (const channel of online) await eventsOf(channel, 1);
					await settle(); // the push calls have answered
				},
			);
			for (const channel of online) channel.close();
		}
	}
	return out;
}
