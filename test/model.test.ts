// A model-based property test (fast-check): random sequences of send, notify,
// ack, recall, delete and history calls by three users, and of sends, joins
// and removals in a group, checked after every step against a small reference
// model of docs/API.md On failure fast-check prints the seed and path that
// reproduce it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
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

const USERS = 3;
const SYSTEM = 3; // index of the system account among the peers
const GROUP = 4; // index of the group among the peers; user 0 owns it

type Message = { id: number; from: number; to: number; recalled: boolean; system: boolean; content: string };
/** A user's side of a conversation; `left` bounds what a removed group member sees. */
type Side = { read: number; clear: number; deleted: boolean; last: number; left: number | null };

/** The reference model: plain arrays and the definitions of docs/API.md */
class Model {
	messages: Message[] = [];
	sides = new Map<string, Side>();
	members = new Set<number>();

	conversation(a: number, b: number) {
		if (b === GROUP) return this.messages.filter((m) => m.to === GROUP);
		return this.messages.filter((m) => (m.from === a && m.to === b) || (m.from === b && m.to === a));
	}
	newestInGroup() {
		return Math.max(0, ...this.conversation(0, GROUP).map((m) => m.id));
	}
	join(user: number) {
		const newest = this.newestInGroup();
		this.members.add(user);
		this.sides.set(`${user}/${GROUP}`, { read: newest, clear: newest, deleted: false, last: newest, left: null });
	}
	remove(user: number) {
		this.members.delete(user);
		const side = this.side(user, GROUP);
		if (side) side.left = this.newestInGroup();
	}
	groupSend(from: number, id: number, content: string) {
		this.messages.push({ id, from, to: GROUP, recalled: false, system: false, content });
		for (const member of this.members) {
			const side = this.side(member, GROUP) as Side;
			Object.assign(side, { last: id, deleted: false }, member === from ? { read: id } : {});
		}
	}
	side(user: number, peer: number) {
		return this.sides.get(`${user}/${peer}`);
	}
	touch(user: number, peer: number, id: number, read: boolean) {
		const side = this.side(user, peer) ?? { read: 0, clear: 0, deleted: false, last: 0, left: null };
		this.sides.set(`${user}/${peer}`, { ...side, deleted: false, last: id, read: read ? id : side.read });
	}
	send(from: number, to: number, id: number, system: boolean, content: string) {
		this.messages.push({ id, from, to, recalled: false, system, content });
		if (from !== SYSTEM) this.touch(from, to, id, true); // the system account never reads
		this.touch(to, from, id, false);
	}
	unread(user: number, peer: number) {
		const side = this.side(user, peer);
		if (!side || side.deleted) return 0;
		const after = Math.max(side.read, side.clear);
		const upTo = side.left ?? Number.POSITIVE_INFINITY;
		return this.conversation(user, peer).filter((m) => m.id > after && m.id <= upTo && m.from !== user && !m.recalled).length;
	}
	list(user: number) {
		return [...this.sides.entries()]
			.filter(([key, side]) => key.startsWith(`${user}/`) && !side.deleted)
			.map(([key, side]) => ({ peer: Number(key.split("/")[1]), last: side.last, num: this.unread(user, Number(key.split("/")[1])) }))
			.sort((a, b) => b.last - a.last);
	}
	history(user: number, peer: number) {
		const side = this.side(user, peer);
		const clear = side?.clear ?? 0;
		const upTo = side?.left ?? Number.POSITIVE_INFINITY;
		return this.conversation(user, peer)
			.filter((m) => m.id > clear && m.id <= upTo)
			.sort((a, b) => b.id - a.id);
	}
}

type Command =
	| { kind: "send"; from: number; to: number }
	| { kind: "notify"; to: number }
	| { kind: "ack"; user: number; peer: number; pick: number }
	| { kind: "recall"; actor: number; peer: number; pick: number }
	| { kind: "delete"; user: number; peer: number }
	| { kind: "history"; user: number; peer: number }
	| { kind: "groupSend"; from: number }
	| { kind: "invite"; user: number }
	| { kind: "kick"; user: number };

const user = fc.integer({ min: 0, max: USERS - 1 });
const otherThan = (u: number, k: number) => (u + 1 + (k % (USERS - 1))) % USERS;
/** A peer of user u: another user, the system account, or the group. */
const peerOf = (u: number, k: number) => (k % 4 === 2 ? SYSTEM : k % 4 === 3 ? GROUP : otherThan(u, k));
const command: fc.Arbitrary<Command> = fc.oneof(
	{ weight: 4, arbitrary: fc.tuple(user, fc.nat()).map(([from, k]): Command => ({ kind: "send", from, to: otherThan(from, k) })) },
	{ weight: 1, arbitrary: user.map((to): Command => ({ kind: "notify", to })) },
	{
		weight: 2,
		arbitrary: fc.tuple(user, fc.nat(), fc.nat()).map(([u, k, pick]): Command => ({ kind: "ack", user: u, peer: peerOf(u, k), pick })),
	},
	// actor USERS means the app admin
	{
		weight: 2,
		arbitrary: fc
			.tuple(fc.integer({ min: 0, max: USERS }), fc.nat(), fc.nat())
			.map(([actor, k, pick]): Command => ({ kind: "recall", actor, peer: k, pick })),
	},
	{
		weight: 1,
		arbitrary: fc.tuple(user, fc.nat()).map(([u, k]): Command => ({ kind: "delete", user: u, peer: peerOf(u, k) })),
	},
	{
		weight: 1,
		arbitrary: fc.tuple(user, fc.nat()).map(([u, k]): Command => ({ kind: "history", user: u, peer: peerOf(u, k) })),
	},
	{ weight: 3, arbitrary: user.map((from): Command => ({ kind: "groupSend", from })) },
	{ weight: 1, arbitrary: fc.integer({ min: 1, max: USERS - 1 }).map((u): Command => ({ kind: "invite", user: u })) },
	{ weight: 1, arbitrary: fc.integer({ min: 1, max: USERS - 1 }).map((u): Command => ({ kind: "kick", user: u })) },
);

type World = { app: TestApp; ids: number[]; tokens: string[]; groupId: number };

/** Three users; user 0 owns a group that user 1 is in. */
async function newWorld(model: Model): Promise<World> {
	const app = await createApp();
	const ids = [await registerUser(app), await registerUser(app), await registerUser(app)];
	const tokens = await Promise.all(ids.map((id) => userToken(app, id)));
	const created = await call("/group/create", { app, token: tokens[0], body: { user_list: [ids[1]] } });
	expect(created.status).toBe(200);
	model.join(0);
	model.join(1);
	return { app, ids, tokens, groupId: created.body.data.group_id };
}

/** Model indices → server ids: users 0..2, SYSTEM → account 0, GROUP → the group. */
const serverId = (w: World, i: number) => (i === SYSTEM ? 0 : i === GROUP ? w.groupId : (w.ids[i] as number));

async function apply(w: World, model: Model, c: Command, step: number) {
	switch (c.kind) {
		case "send": {
			const content = `s${step}`;
			const reply = await send(w.app, w.tokens[c.from], { targets: [serverId(w, c.to)], content });
			expect(reply.status).toBe(200);
			model.send(c.from, c.to, reply.body.msg_ids[0], false, content);
			return;
		}
		case "notify": {
			const content = `n${step}`;
			const reply = await call("/message/notify", {
				app: w.app,
				body: { type: 1, content_type: 0, targets: [serverId(w, c.to)], content },
			});
			expect(reply.status).toBe(200);
			model.send(SYSTEM, c.to, reply.body.msg_ids[0], true, content);
			return;
		}
		case "ack": {
			const conversation = model.conversation(c.user, c.peer);
			const target = conversation[c.pick % (conversation.length + 1)];
			const reply = await ack(w.app, w.tokens[c.user] as string, serverId(w, c.peer), target?.id ?? 99_999_999);
			const side = model.side(c.user, c.peer);
			// docs/API.md: in a group, a non-member, or a member removed before the id, gets 403 whatever the id.
			const beyondRemoval = side?.left !== null && side?.left !== undefined && (target?.id ?? 99_999_999) > side.left;
			if (c.peer === GROUP && (!side || beyondRemoval)) return expect(reply.status).toBe(403);
			if (!target || !side) return expect(reply.status).toBe(404);
			expect(reply.status).toBe(200);
			side.read = Math.max(side.read, target.id);
			return;
		}
		case "recall": {
			const message = model.messages[c.pick % (model.messages.length + 1)];
			if (!message) return;
			const admin = c.actor === USERS;
			// The admin names either party; a user names their peer (if they are a party at all).
			const parties = message.to === GROUP ? [GROUP] : [message.from, message.to];
			let reply: Awaited<ReturnType<typeof recall>>;
			let inConversation: boolean;
			if (admin) {
				const named = parties[c.peer % parties.length] as number;
				reply = await recall(w.app, undefined, serverId(w, named), message.id);
				inConversation = true;
			} else {
				const peer = parties.find((p) => p !== c.actor) ?? otherThan(c.actor, c.peer);
				inConversation = parties.includes(c.actor) || message.to === GROUP;
				reply = await recall(w.app, w.tokens[c.actor], serverId(w, peer), message.id);
			}
			if (!inConversation) return expect(reply.status).toBe(404);
			// docs/API.md: in a group only a current member (or an admin) may recall; anyone else gets 403 whatever the id.
			if (message.to === GROUP && !admin && !model.members.has(c.actor)) return expect(reply.status).toBe(403);
			const allowed = admin || (message.from === c.actor && !message.system);
			if (!allowed && !message.recalled) return expect(reply.status).toBe(403);
			expect(reply.status).toBe(200);
			message.recalled = true;
			return;
		}
		case "delete": {
			const reply = await deleteConversation(w.app, w.tokens[c.user] as string, serverId(w, c.peer));
			const side = model.side(c.user, c.peer);
			if (!side || side.deleted) return expect(reply.status).toBe(404);
			expect(reply.status).toBe(200);
			const newest = Math.max(0, ...model.conversation(c.user, c.peer).map((m) => m.id));
			Object.assign(side, { deleted: true, clear: Math.max(side.clear, newest) });
			return;
		}
		case "history":
			return checkHistory(w, model, c.user, c.peer);
		case "groupSend": {
			const content = `g${step}`;
			const reply = await send(w.app, w.tokens[c.from], { type: 2, targets: [w.groupId], content });
			if (!model.members.has(c.from)) return expect(reply.status).toBe(403);
			expect(reply.status).toBe(200);
			model.groupSend(c.from, reply.body.msg_ids[0], content);
			return;
		}
		case "invite": {
			const reply = await call("/group/invite", {
				app: w.app,
				token: w.tokens[0],
				body: { group_id: w.groupId, user_list: [w.ids[c.user]] },
			});
			expect(reply.status).toBe(200);
			expect(reply.body.data[0].result).toBe(model.members.has(c.user) ? "fail" : "success");
			if (!model.members.has(c.user)) model.join(c.user);
			return;
		}
		case "kick": {
			const reply = await call("/group/kick", {
				app: w.app,
				token: w.tokens[0],
				body: { group_id: w.groupId, user_list: [w.ids[c.user]] },
			});
			expect(reply.status).toBe(200);
			expect(reply.body.data[0].result).toBe(model.members.has(c.user) ? "success" : "fail");
			if (model.members.has(c.user)) model.remove(c.user);
			return;
		}
	}
}

async function checkHistory(w: World, model: Model, u: number, peer: number) {
	if (peer === GROUP && !model.side(u, GROUP)) {
		return expect((await history(w.app, w.tokens[u] as string, { opposite_id: w.groupId })).status).toBe(403);
	}
	const expected = model.history(u, peer);
	const seen: any[] = [];
	let start = 0;
	for (let pages = 0; pages < 50; pages++) {
		const page = await history(w.app, w.tokens[u] as string, { opposite_id: serverId(w, peer), msg_id_start: start, limit: 3 });
		expect(page.status).toBe(200);
		seen.push(...page.body.data.messages);
		if (page.body.data.is_last) break;
		start = page.body.data.next_msg_id;
	}
	const side = model.side(u, peer);
	expect(seen.map((m) => [m.msg_id, m.recalled, m.content, m.is_system])).toEqual(
		expected.map((m) => [m.id, m.recalled, m.recalled ? "" : m.content, m.system]),
	);
	for (const m of seen) {
		if (m.from_xid.uid !== w.ids[u]) expect(m.status).toBe((side?.read ?? 0) >= m.msg_id ? "READ" : "DELIVERED");
	}
}

async function checkAll(w: World, model: Model) {
	for (let u = 0; u < USERS; u++) {
		const list = await unreadList(w.app, w.tokens[u] as string);
		expect(list.status).toBe(200);
		expect(list.body.data.map((e: any) => [e.conversation_id.uid, e.num, e.last_msg_id])).toEqual(
			model.list(u).map((e) => [serverId(w, e.peer), e.num, e.last]),
		);
		for (const peer of [otherThan(u, 0), otherThan(u, 1), SYSTEM, GROUP]) await checkHistory(w, model, u, peer);
	}
}

describe("model-based: random sequences by three users", () => {
	it("unread lists and every history page equal the reference model after every step", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
				const model = new Model();
				const w = await newWorld(model);
				for (const [step, c] of commands.entries()) {
					await apply(w, model, c, step);
					await checkAll(w, model);
				}
			}),
			{ numRuns: 200 },
		);
	}, 600_000);
});
