// Realtime visibility (docs/API.md, "Real-time delivery"): a channel receives
// an event about a message only if its user can see that message in history —
// not a member who joined after it, not one removed before it or away when it
// was sent, not a peer who cleared the conversation past it; stored edits and
// online_only ones alike.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { asUser, type Channel, connect, eventsOf } from "./channels";
import { call, createApp, type Reply, registerUser, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

const settle = () => new Promise((r) => setTimeout(r, 150));
const as = (userId: number) => ({ user_id: String(userId) });

/** A send by the admin acting as `userId` (membership rules apply). */
const sendAs = (userId: number, body: Record<string, unknown>) =>
	call("/message/send", { app, headers: as(userId), body: { content_type: 0, ...body } });

/** An operation with admin rights (admin token + from_user_id): allowed on any message, so only visibility decides who hears of it. */
const operate = (from: number, body: Record<string, unknown>) =>
	call("/message/send", { app, body: { from_user_id: from, content_type: 0, ...body } });

const recallByAdmin = (conversationId: number, msgId: number) =>
	call("/message/recall", { app, body: { conversation_id: conversationId, msg_id: msgId } });

const invite = (groupId: number, users: number[]) => call("/group/invite", { app, body: { group_id: groupId, user_list: users } });
const kick = (groupId: number, users: number[]) => call("/group/kick", { app, body: { group_id: groupId, user_list: users } });
const leave = (groupId: number, userId: number) =>
	call("/group/leave", { app, method: "POST", headers: as(userId), query: { group_id: groupId } });
const clear = (userId: number, peer: number) =>
	call("/message/conversation", { app, method: "DELETE", headers: as(userId), query: { conversation_id: peer } });

/** Every msg_id `userId` sees in history with `peer` (none if they may not read it). */
async function visible(userId: number, peer: number): Promise<Set<number>> {
	const ids = new Set<number>();
	let start = 0;
	for (;;) {
		const page: Reply = await call("/message/conversation", {
			app,
			headers: as(userId),
			query: { opposite_id: peer, msg_id_start: start, limit: 100 },
		});
		if (page.status === 403) return ids;
		expect(page.status).toBe(200);
		for (const m of page.body.data.messages) ids.add(m.msg_id);
		if (page.body.data.is_last) return ids;
		start = page.body.data.next_msg_id;
	}
}

/** The message ids of events about existing messages (append, update, read). */
const aboutIds = (channel: Channel) =>
	channel.events.flatMap((e) =>
		e.event === "append" || e.event === "read" ? [e.data.msg_id] : e.event === "update" ? [e.data.message.msg_id] : [],
	);

async function channelOf(userId: number) {
	return connect(asUser(app, await userToken(app, userId)));
}

/** Every kind of event about `msgId`: APPEND and REPLACE stored and online_only, then its recall. */
async function touchEverything(from: number, type: 1 | 2, target: number, msgId: number) {
	for (const [content_type, online_only] of [
		[11, false],
		[12, false],
		[11, true],
		[12, true],
	] as const) {
		const reply = await operate(from, {
			type,
			targets: [target],
			content_type,
			related_mid: msgId,
			content: ` chunk ${content_type}`,
			online_only,
		});
		expect(reply.status).toBe(200);
	}
	expect((await recallByAdmin(type === 2 ? target : from, msgId)).status).toBe(200);
}

describe("realtime visibility: events only about messages the user's history holds", () => {
	it("a member invited after message M hears nothing of M's edits (stored and online_only), its recall or reads of it; an older member hears all", async () => {
		const [owner, early, late] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		const group = (await call("/group/create", { app, headers: as(owner), body: { user_list: [early] } })).body.data.group_id;
		const [m] = (await sendAs(owner, { type: 2, targets: [group], content: "before the invite" })).body.msg_ids;
		expect((await invite(group, [late])).status).toBe(200);
		const [earlyChannel, lateChannel] = [await channelOf(early), await channelOf(late)];
		expect((await call("/message/ack", { app, headers: as(early), query: { conversation_id: group, msg_id: m } })).status).toBe(200);
		await touchEverything(owner, 2, group, m);
		await eventsOf(earlyChannel, 6); // read, 2 appends, 2 updates, the recall
		await settle();
		expect(aboutIds(earlyChannel)).toEqual([m, m, m, m, m, m]);
		expect(lateChannel.events).toEqual([]);
		expect(await visible(late, group)).not.toContain(m);
		// Not over-filtered: a message after the join, and its edit, reach the late member.
		const [n] = (await sendAs(owner, { type: 2, targets: [group], content: "after the invite" })).body.msg_ids;
		await operate(owner, { type: 2, targets: [group], content_type: 11, related_mid: n, content: " more" });
		const events = await eventsOf(lateChannel, 2);
		expect(events.map((e) => [e.event, e.data.msg_id])).toEqual([
			["message", n],
			["append", n],
		]);
		for (const c of [earlyChannel, lateChannel]) c.close();
	});

	it("a member who left and came back hears nothing of messages from before their return (their history starts there)", async () => {
		const [owner, member] = [await registerUser(app), await registerUser(app)];
		const group = (await call("/group/create", { app, headers: as(owner), body: { user_list: [member] } })).body.data.group_id;
		const [seen] = (await sendAs(owner, { type: 2, targets: [group], content: "seen, then left" })).body.msg_ids;
		expect((await leave(group, member)).status).toBe(200);
		const [away] = (await sendAs(owner, { type: 2, targets: [group], content: "while away" })).body.msg_ids;
		expect((await kick(group, [member])).status).toBe(200); // already gone: a fail row, nothing changes
		expect((await invite(group, [member])).status).toBe(200);
		const channel = await channelOf(member);
		const history = await visible(member, group);
		expect(history.has(seen) || history.has(away)).toBe(false);
		await touchEverything(owner, 2, group, away);
		await touchEverything(owner, 2, group, seen);
		await settle();
		expect(channel.events).toEqual([]);
		channel.close();
	});

	it("a removed member hears nothing of messages sent after their removal, nor of their edits", async () => {
		const [owner, member] = [await registerUser(app), await registerUser(app)];
		const group = (await call("/group/create", { app, headers: as(owner), body: { user_list: [member] } })).body.data.group_id;
		const [before] = (await sendAs(owner, { type: 2, targets: [group], content: "before the kick" })).body.msg_ids;
		expect((await kick(group, [member])).status).toBe(200);
		const [after] = (await sendAs(owner, { type: 2, targets: [group], content: "after the kick" })).body.msg_ids;
		const channel = await channelOf(member);
		await operate(owner, { type: 2, targets: [group], content_type: 12, related_mid: after, content: "edited after" });
		await operate(owner, { type: 2, targets: [group], content_type: 12, related_mid: before, content: "edited before" });
		await settle();
		// A removed member is no longer in the group's audience: no events of it at all (their history shows each message's final state).
		expect(channel.events).toEqual([]);
		expect(await visible(member, group)).toEqual(new Set([before]));
		channel.close();
	});

	it("a one-to-one peer who cleared the conversation past M hears nothing more of M; the sender's other device still does", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [m] = (await sendAs(alice, { type: 1, targets: [bob], content: "soon cleared" })).body.msg_ids;
		expect((await clear(bob, alice)).status).toBe(200);
		const [bobChannel, aliceChannel] = [await channelOf(bob), await channelOf(alice)];
		await touchEverything(alice, 1, bob, m);
		await eventsOf(aliceChannel, 5);
		await settle();
		expect(bobChannel.events).toEqual([]);
		expect(aboutIds(aliceChannel)).toEqual([m, m, m, m, m]);
		expect(await visible(bob, alice)).toEqual(new Set());
		// A new message brings the conversation back for Bob, and its edits reach him.
		const [n] = (await sendAs(alice, { type: 1, targets: [bob], content: "new" })).body.msg_ids;
		await operate(alice, { type: 1, targets: [bob], content_type: 12, related_mid: n, content: "new, edited" });
		expect((await eventsOf(bobChannel, 2)).map((e) => e.event)).toEqual(["message", "update"]);
		for (const c of [bobChannel, aliceChannel]) c.close();
	});
});

type Op =
	| { kind: "groupSend"; by: number }
	| { kind: "pairSend"; by: number }
	| { kind: "edit"; pick: number; mode: 11 | 12; onlineOnly: boolean }
	| { kind: "recall"; pick: number }
	| { kind: "invite"; user: number }
	| { kind: "kick"; user: number }
	| { kind: "leave"; user: number }
	| { kind: "clear"; user: number; group: boolean };

const user = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
	{ weight: 3, arbitrary: fc.record({ kind: fc.constant("groupSend" as const), by: user }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant("pairSend" as const), by: fc.integer({ min: 0, max: 1 }) }) },
	{
		weight: 4,
		arbitrary: fc.record({
			kind: fc.constant("edit" as const),
			pick: fc.nat(),
			mode: fc.constantFrom(11 as const, 12 as const),
			onlineOnly: fc.boolean(),
		}),
	},
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("recall" as const), pick: fc.nat() }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant("invite" as const), user }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("kick" as const), user }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), user }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant("clear" as const), user, group: fc.boolean() }) },
);

describe("realtime visibility, as a property", () => {
	it("over random invites, kicks, leaves, clears, sends, edits and recalls, every event a channel receives is about a message its user's history held when it was sent", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(opArb, { minLength: 8, maxLength: 24 }), async (ops) => {
				// Four users: 0 owns the group and talks one-to-one with 1; 0 and 1 start in the group.
				const users = [await registerUser(app), await registerUser(app), await registerUser(app), await registerUser(app)];
				const [owner, peer] = users as [number, number];
				const group = (await call("/group/create", { app, headers: as(owner), body: { user_list: [peer] } })).body.data.group_id as number;
				const channels = await Promise.all(users.map(channelOf));
				/** Stored messages: where they are, for picking one to edit or recall. */
				const messages: { id: number; group: boolean }[] = [];
				/** What each user's history held just after each step (the step's events were decided in its write). */
				const views: Map<number, Set<number>>[] = [];
				/** Which step produced each event, by the unique text the step wrote, or the message a recall named. */
				const stepOfText = new Map<string, number>();
				const stepOfRecall = new Map<number, number>();
				const stepOfMessage = new Map<number, number>();
				for (const [step, op] of ops.entries()) {
					const text = `step ${step} ${crypto.randomUUID().slice(0, 6)}`;
					const picked = messages.length > 0 ? messages[("pick" in op ? op.pick : 0) % messages.length] : undefined;
					switch (op.kind) {
						case "groupSend": {
							const reply = await sendAs(users[op.by] as number, { type: 2, targets: [group], content: text });
							if (reply.status === 200) {
								messages.push({ id: reply.body.msg_ids[0], group: true });
								stepOfMessage.set(reply.body.msg_ids[0], step);
							} else expect(reply.status).toBe(403); // not a member now
							break;
						}
						case "pairSend": {
							const [from, to] = op.by === 0 ? [owner, peer] : [peer, owner];
							const reply = await sendAs(from, { type: 1, targets: [to], content: text });
							expect(reply.status).toBe(200);
							messages.push({ id: reply.body.msg_ids[0], group: false });
							stepOfMessage.set(reply.body.msg_ids[0], step);
							break;
						}
						case "edit": {
							if (!picked) break;
							const target = picked.group ? group : peer;
							const reply = await operate(owner, {
								type: picked.group ? 2 : 1,
								targets: [target],
								content_type: op.mode,
								related_mid: picked.id,
								content: ` ${text}`,
								online_only: op.onlineOnly,
							});
							expect([200, 409]).toContain(reply.status); // 409: recalled
							stepOfText.set(` ${text}`, step);
							break;
						}
						case "recall": {
							if (!picked) break;
							const reply = await recallByAdmin(picked.group ? group : owner, picked.id);
							expect(reply.status).toBe(200);
							if (!stepOfRecall.has(picked.id)) stepOfRecall.set(picked.id, step);
							break;
						}
						case "invite":
							expect((await invite(group, [users[op.user] as number])).status).toBe(200);
							break;
						case "kick":
							if (op.user !== 0) expect((await kick(group, [users[op.user] as number])).status).toBe(200);
							break;
						case "leave": {
							if (op.user === 0) break; // the owner stays
							expect([200, 403, 404]).toContain((await leave(group, users[op.user] as number)).status);
							break;
						}
						case "clear": {
							const u = users[op.user] as number;
							const conversation = op.group ? group : u === owner ? peer : owner;
							if (!op.group && u !== owner && u !== peer) break;
							expect([200, 404]).toContain((await clear(u, conversation)).status);
							break;
						}
					}
					const view = new Map<number, Set<number>>();
					for (const u of users) {
						const seen = await visible(u, group);
						if (u === owner || u === peer) for (const id of await visible(u, u === owner ? peer : owner)) seen.add(id);
						view.set(u, seen);
					}
					views.push(view);
				}
				await settle();
				for (const [k, channel] of channels.entries()) {
					const u = users[k] as number;
					for (const e of channel.events) {
						let id: number;
						let step: number | undefined;
						if (e.event === "message") {
							id = e.data.msg_id;
							step = stepOfMessage.get(id);
						} else if (e.event === "append") {
							id = e.data.msg_id;
							step = stepOfText.get(e.data.content);
						} else if (e.event === "update") {
							id = e.data.message.msg_id;
							// A REPLACE's update carries the step's text as the whole content; a recall's, a tombstone.
							step = e.data.message.recalled ? stepOfRecall.get(id) : stepOfText.get(e.data.message.content);
						} else continue;
						expect(step, `${e.event} about ${id} to user ${u}`).toBeDefined();
						expect(views[step as number]?.get(u)?.has(id), `${e.event} about ${id} to user ${u} after step ${step}`).toBe(true);
					}
					channel.close();
				}
			}),
			{ numRuns: 8 },
		);
	}, 240_000);
});
