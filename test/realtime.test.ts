// docs/API.md "Real-time delivery" realtime channels, in workerd: the upgrade, credentials, ping,
// hibernation, and events pushed by writes to the users online.
import { evictDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { userChannels } from "../src/realtime/push";
import { asUser, connect, eventsOf } from "./channels";
import { meter } from "./meter";
import { receiver, setSettings } from "./receiver";
import {
	ack,
	allMessages,
	call,
	createApp,
	deleteConversation,
	directSend,
	entryFor,
	recall,
	registerUser,
	send,
	type TestApp,
	userToken,
} from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

afterEach(() => vi.restoreAllMocks());

async function pair() {
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	return { alice, bob, aliceToken: await userToken(app, alice), bobToken: await userToken(app, bob, { device_sn: 7 }) };
}

describe("GET /realtime", () => {
	it("without Upgrade: websocket it is 426 with the envelope", async () => {
		const { aliceToken } = await pair();
		const reply = await call("/realtime", { app, token: aliceToken });
		expect(reply.status).toBe(426);
		expect(reply.body).toMatchObject({ code: 426, data: null });
	});

	it("bad credentials are 401 with the envelope, and no upgrade (headers or query)", async () => {
		const tries: { path: string; headers: Record<string, string> }[] = [
			{ path: "/realtime", headers: { app_id: app.key, "access-token": "not-a-token" } },
			{ path: `/realtime?app_id=${app.key}&access_token=nope`, headers: {} },
			{ path: "/realtime", headers: { app_id: app.key } },
		];
		for (const init of tries) {
			const response = await SELF.fetch(`https://im.test${init.path}`, { headers: { upgrade: "websocket", ...init.headers } });
			expect(response.status).toBe(401);
			expect(response.webSocket).toBeNull();
			expect(await response.json()).toMatchObject({ code: 401 });
		}
	});

	it("a browser's query credentials open a channel; ping is answered pong", async () => {
		const { aliceToken } = await pair();
		const channel = await connect({}, `?app_id=${app.key}&access_token=${aliceToken}`);
		channel.socket.send("ping");
		await vi.waitFor(() => expect(channel.texts).toContain("pong"));
		channel.close();
	});

	it("a message reaches every channel of the receiver and the sender's other channel, in the message shape with conversation_id", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [bobPhone, bobLaptop, aliceTab] = [
			await connect(asUser(app, bobToken)),
			await connect(asUser(app, bobToken)),
			await connect(asUser(app, aliceToken)),
		];
		const sent = await send(app, aliceToken, { targets: [bob], content: "live" });
		expect(sent.status).toBe(200);
		for (const channel of [bobPhone, bobLaptop]) {
			const [event] = await eventsOf(channel, 1);
			expect(event).toEqual({
				event: "message",
				data: expect.objectContaining({
					msg_id: sent.body.msg_ids[0],
					content: "live",
					conversation_id: alice,
					status: "DELIVERED",
					online_only: false,
					from_xid: { uid: alice, device_sn: 0 },
					to_xid: { uid: bob, device_sn: 0 },
				}),
			});
		}
		const [own] = await eventsOf(aliceTab, 1);
		expect(own?.data).toMatchObject({ msg_id: sent.body.msg_ids[0], conversation_id: bob, status: "UNREAD" });
		for (const c of [bobPhone, bobLaptop, aliceTab]) c.close();
	});

	it("events of one conversation arrive in commit order on every channel", async () => {
		const { bob, aliceToken, bobToken } = await pair();
		const channels = [await connect(asUser(app, bobToken)), await connect(asUser(app, bobToken))];
		const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send(app, aliceToken, { targets: [bob], content: `n${i}` })));
		const ids = replies.map((r) => r.body.msg_ids[0] as number).sort((a, b) => a - b);
		for (const channel of channels) {
			const events = await eventsOf(channel, 50);
			expect(events.map((e) => e.data.msg_id)).toEqual(ids);
			channel.close();
		}
	});

	it("a channel survives hibernation (the object evicted) and still receives", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const channel = await connect(asUser(app, bobToken));
		await evictDurableObject(userChannels(env, app.appId, bob));
		channel.socket.send("ping");
		await vi.waitFor(() => expect(channel.texts).toContain("pong"));
		await send(app, aliceToken, { targets: [bob], content: "after hibernation" });
		const [event] = await eventsOf(channel, 1);
		expect(event?.data).toMatchObject({ content: "after hibernation", conversation_id: alice });
		channel.close();
	}, 40_000);

	it("a user who is offline gets no push, and loses nothing (history)", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const m = meter();
		try {
			expect((await send(app, aliceToken, { targets: [bob], content: "nobody listens" })).status).toBe(200);
			await new Promise((r) => setTimeout(r, 50));
			expect(m.cost.durableObject).toBe(1); // the conversation's object, and no user's
		} finally {
			m.stop();
		}
		const history = await call("/message/conversation", { app, token: bobToken, query: { opposite_id: alice } });
		expect(history.body.data.messages[0].content).toBe("nobody listens");
	});

	it("a closed channel takes its user offline: later sends push nothing", async () => {
		const { bob, aliceToken, bobToken } = await pair();
		const channel = await connect(asUser(app, bobToken));
		channel.close();
		await vi.waitFor(async () => {
			const row = await env.DB.prepare("SELECT 1 FROM online_users WHERE app_id = ? AND user_id = ?").bind(app.appId, bob).first();
			expect(row).toBeNull();
		});
		const m = meter();
		try {
			await send(app, aliceToken, { targets: [bob], content: "gone" });
			await new Promise((r) => setTimeout(r, 50));
			expect(m.cost.durableObject).toBe(1);
		} finally {
			m.stop();
		}
	});
});

describe("every kind of event", () => {
	it("append, update (REPLACE and recall) and read reach the peer; conversation_deleted reaches the user's other channel", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [mid] = (await send(app, aliceToken, { targets: [bob], content: "draft" })).body.msg_ids;
		const [bobChannel, aliceChannel, aliceOther] = [
			await connect(asUser(app, bobToken)),
			await connect(asUser(app, aliceToken)),
			await connect(asUser(app, aliceToken)),
		];
		await send(app, aliceToken, { targets: [bob], content_type: 11, related_mid: mid, content: " more" });
		await send(app, aliceToken, { targets: [bob], content_type: 12, related_mid: mid, content: "final" });
		expect((await ack(app, bobToken, alice, mid, 7)).status).toBe(200);
		expect((await recall(app, aliceToken, bob, mid)).status).toBe(200);
		const events = await eventsOf(bobChannel, 4);
		expect(events.map((e) => e.event)).toEqual(["append", "update", "read", "update"]);
		expect(events[0]?.data).toEqual({ conversation_id: alice, msg_id: mid, content: " more", online_only: false });
		expect(events[1]?.data).toMatchObject({ conversation_id: alice, message: { msg_id: mid, content: "final", recalled: false } });
		expect(events[2]?.data).toEqual({ conversation_id: alice, user_id: bob, msg_id: mid, device_sn: 7 });
		expect(events[3]?.data).toMatchObject({ message: { msg_id: mid, content: "", recalled: true } });
		// The sender hears that the peer read it.
		const aliceEvents = await eventsOf(aliceChannel, 4);
		expect(aliceEvents[2]).toEqual({ event: "read", data: { conversation_id: bob, user_id: bob, msg_id: mid, device_sn: 7 } });
		// Deleting is told to the user's own other channels, not to the peer.
		expect((await deleteConversation(app, aliceToken, bob)).status).toBe(200);
		const deleted = await vi.waitFor(() => {
			const found = aliceOther.events.find((e) => e.event === "conversation_deleted");
			if (!found) throw new Error("not yet");
			return found;
		});
		expect(deleted.data).toEqual({ conversation_id: bob });
		await new Promise((r) => setTimeout(r, 50));
		expect(bobChannel.events.some((e) => e.event === "conversation_deleted")).toBe(false);
		for (const c of [bobChannel, aliceChannel, aliceOther]) c.close();
	});

	it("a group message reaches every online member, with the group as conversation_id", async () => {
		const [owner, ann, ben] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		const ownerToken = await userToken(app, owner);
		const groupId = (await call("/group/create", { app, token: ownerToken, body: { user_list: [ann, ben] } })).body.data.group_id;
		const [annChannel, benChannel] = [
			await connect(asUser(app, await userToken(app, ann))),
			await connect(asUser(app, await userToken(app, ben))),
		];
		const sent = await send(app, ownerToken, { type: 2, targets: [groupId], content: "to all" });
		for (const channel of [annChannel, benChannel]) {
			const [event] = await eventsOf(channel, 1);
			expect(event?.data).toMatchObject({ msg_id: sent.body.msg_ids[0], conversation_id: groupId, type: "GROUPCHAT" });
			channel.close();
		}
	});
});

describe("online_only", () => {
	it("a streamed reply: 20 online_only APPENDs reach the peer as 20 append events, then REPLACE as one update; history holds only the final text", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [mid] = (await send(app, aliceToken, { targets: [bob], content: "Thinking" })).body.msg_ids;
		const bobChannel = await connect(asUser(app, bobToken));
		for (let i = 0; i < 20; i++) {
			const chunk = await send(app, aliceToken, {
				targets: [bob],
				content_type: 11,
				related_mid: mid,
				content: ` w${i}`,
				online_only: true,
			});
			expect(chunk.status).toBe(200);
			expect(chunk.body.msg_ids).toEqual([0]);
		}
		await send(app, aliceToken, { targets: [bob], content_type: 12, related_mid: mid, content: "The final answer." });
		const events = await eventsOf(bobChannel, 21);
		expect(events.slice(0, 20).map((e) => [e.event, e.data.content, e.data.online_only])).toEqual(
			Array.from({ length: 20 }, (_, i) => ["append", ` w${i}`, true]),
		);
		expect(events[20]).toMatchObject({ event: "update", data: { message: { msg_id: mid, content: "The final answer." } } });
		const stored = (await allMessages(app, bobToken, alice)).filter((m) => m.msg_id === mid);
		expect(stored.map((m) => m.content)).toEqual(["The final answer."]);
		bobChannel.close();
	});

	it("an online_only message reaches open channels only: not stored, not counted, not called back, msg_ids 0", async () => {
		const hooked = await createApp();
		const hook = receiver();
		await setSettings(hooked, { callback_url: hook.url });
		const [alice, bob] = [await registerUser(hooked), await registerUser(hooked)];
		const [aliceToken, bobToken] = [await userToken(hooked, alice), await userToken(hooked, bob)];
		const bobChannel = await connect(asUser(hooked, bobToken));
		const reply = await send(hooked, aliceToken, { targets: [bob], content: "typing…", online_only: true });
		expect(reply.status).toBe(200);
		expect(reply.body.msg_ids).toEqual([0]);
		const [event] = await eventsOf(bobChannel, 1);
		expect(event).toMatchObject({ event: "message", data: { msg_id: 0, content: "typing…", online_only: true, conversation_id: alice } });
		expect(await allMessages(hooked, bobToken, alice)).toEqual([]);
		expect(await entryFor(hooked, bobToken, alice)).toBeUndefined();
		await new Promise((r) => setTimeout(r, 100));
		expect(hook.received).toEqual([]);
		bobChannel.close();
	});

	it("online_only keeps the rights of the stored kind: another's message 403, unknown related_mid 404, a recall 400", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [mid] = (await send(app, aliceToken, { targets: [bob], content: "mine" })).body.msg_ids;
		const edit = (token: string, to: number, extra: Record<string, unknown>) =>
			send(app, token, { targets: [to], content_type: 11, content: "x", online_only: true, ...extra });
		expect((await edit(bobToken, alice, { related_mid: mid })).status).toBe(403);
		expect((await edit(aliceToken, bob, { related_mid: mid + 1000 })).status).toBe(404);
		expect((await send(app, aliceToken, { targets: [bob], content_type: 10, related_mid: mid, online_only: true })).status).toBe(400);
	});
});

describe("resume with since", () => {
	it("a channel reopened with since first gets every stored message it missed, in id order, then live events", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const first = await connect(asUser(app, bobToken));
		await send(app, aliceToken, { targets: [bob], content: "seen" });
		const [seen] = await eventsOf(first, 1);
		first.close();
		await vi.waitFor(async () =>
			expect(await env.DB.prepare("SELECT 1 FROM online_users WHERE app_id = ? AND user_id = ?").bind(app.appId, bob).first()).toBeNull(),
		);
		const missed = [];
		for (let i = 0; i < 5; i++) missed.push((await send(app, aliceToken, { targets: [bob], content: `missed ${i}` })).body.msg_ids[0]);
		const again = await connect(asUser(app, bobToken), `?since=${seen?.data.msg_id}`);
		const replay = await eventsOf(again, 5);
		expect(replay.map((e) => [e.event, e.data.msg_id, e.data.conversation_id])).toEqual(missed.map((id) => ["message", id, alice]));
		const live = await send(app, aliceToken, { targets: [bob], content: "live again" });
		const events = await eventsOf(again, 6);
		expect(events[5]?.data.msg_id).toBe(live.body.msg_ids[0]);
		again.close();
	});

	it("reconnecting at random cut points while 4 conversations send: every stored message arrives; only an overtaken one may come twice", async () => {
		const bob = await registerUser(app);
		const bobToken = await userToken(app, bob, { device_sn: 3 });
		const senders = [await registerUser(app), await registerUser(app), await registerUser(app), await registerUser(app)];
		const tokens = await Promise.all(senders.map((s) => userToken(app, s)));
		const received: number[] = [];
		// Four conversations, each sending 30 messages one after another, all at once.
		let done = false;
		const storm = Promise.all(
			tokens.map(async (token, k) => {
				for (let i = 0; i < 30; i++) {
					expect((await send(app, token, { targets: [bob], content: `storm ${k}/${i}` })).status).toBe(200);
					await new Promise((r) => setTimeout(r, Math.random() * 6));
				}
			}),
		).then(() => {
			done = true;
		});
		let since = 0; // nothing seen yet: replay whatever there is
		let cuts = 0;
		while (!done) {
			const channel = await connect(asUser(app, bobToken), `?since=${since}`);
			// Take what arrives for a random moment, then cut: later frames of this channel are not seen.
			await new Promise((r) => setTimeout(r, 5 + Math.random() * 30));
			const got = channel.events.filter((e) => e.event === "message").map((e) => e.data.msg_id as number);
			channel.close();
			received.push(...got);
			if (received.length > 0) since = Math.max(...received);
			cuts++;
		}
		await storm;
		// The last channel, after the storm: whatever is still missing.
		const last = await connect(asUser(app, bobToken), `?since=${since}`);
		await new Promise((r) => setTimeout(r, 200));
		received.push(...last.events.filter((e) => e.event === "message").map((e) => e.data.msg_id as number));
		last.close();
		const stored = new Set<number>();
		for (const s of senders) for (const m of await allMessages(app, bobToken, s)) stored.add(m.msg_id);
		expect(stored.size).toBe(120);
		expect(cuts).toBeGreaterThan(3);
		expect(new Set(received)).toEqual(stored);
		// A repeat can only be a message that overtook the cut's since (the service cannot know it arrived): rare.
		expect(received.length - stored.size).toBeLessThanOrEqual(12);
	}, 60_000);

	it("a message that overtook since and was cut is replayed, though its id is below since (the device's sent log)", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const carol = await registerUser(app);
		// Stored while Bob has no channel: nothing is pushed by the sends themselves.
		const [older] = (await send(app, aliceToken, { targets: [bob], content: "older, overtaken" })).body.msg_ids;
		const [newer] = (await send(app, await userToken(app, carol), { targets: [bob], content: "newer, seen" })).body.msg_ids;
		const row = (id: number, from: number, content: string) => ({
			...directSend(app, from, bob, content).message,
			id,
			recalled: false,
			recalledBy: null,
		});
		const channels = userChannels(env, app.appId, bob);
		const channel = await connect(asUser(app, bobToken));
		// Two conversations' pushes crossing: the newer message reaches Bob first, then the channel is cut ...
		await channels.deliver([{ kind: "message", message: row(newer, carol, "newer, seen"), onlineOnly: false }]);
		const [seen] = await eventsOf(channel, 1);
		expect(seen?.data.msg_id).toBe(newer);
		channel.close();
		await vi.waitFor(async () =>
			expect(await env.DB.prepare("SELECT 1 FROM online_users WHERE app_id = ? AND user_id = ?").bind(app.appId, bob).first()).toBeNull(),
		);
		// ... and the older one's push arrives after the cut.
		await channels.deliver([{ kind: "message", message: row(older, alice, "older, overtaken"), onlineOnly: false }]);
		const again = await connect(asUser(app, bobToken), `?since=${newer}`);
		const [replayed] = await eventsOf(again, 1);
		expect(replayed?.data).toMatchObject({ msg_id: older, content: "older, overtaken" });
		await new Promise((r) => setTimeout(r, 50));
		expect(again.events).toHaveLength(1); // and not the one it saw
		again.close();
	});

	it("more than 1,000 missed messages: one resync event, then live", async () => {
		const { bob, aliceToken, bobToken } = await pair();
		const rows = Array.from({ length: 1001 }, (_, i) => `(${app.appId}, 'bulk', 1, 0, 'bulk ${i}', '', '', '', 0, 0, ${bob}, 0, 0, 0)`);
		// Seeded directly: a thousand sends through the API would only make the test slow.
		const key = `p:0:${bob}`;
		for (let i = 0; i < rows.length; i += 100) {
			await env.DB.prepare(
				`INSERT INTO messages (app_id, conversation_key, type, content_type, content, attachment, config, ext, from_uid, from_device_sn, to_uid, timestamp, recalled, is_system) VALUES ${rows
					.slice(i, i + 100)
					.join(",")
					.replaceAll("'bulk',", `'${key}',`)}`,
			).run();
		}
		await env.DB.prepare(
			"INSERT INTO conversation_members (app_id, user_id, conversation_key, type, peer_id, last_msg_id, last_timestamp) VALUES (?, ?, ?, 1, 0, 0, 0)",
		)
			.bind(app.appId, bob, key)
			.run();
		const channel = await connect(asUser(app, bobToken), "?since=0");
		const [first] = await eventsOf(channel, 1);
		expect(first?.event).toBe("resync");
		await send(app, aliceToken, { targets: [bob], content: "after resync" });
		const events = await eventsOf(channel, 2);
		expect(events[1]).toMatchObject({ event: "message", data: { content: "after resync" } });
		channel.close();
	});
});
