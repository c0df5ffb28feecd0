import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { conversationObject, groupKey } from "../src/conversation/key";
import {
	ack,
	allMessages,
	call,
	createApp,
	deleteConversation,
	entryFor,
	history,
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

type Crew = { owner: number; ann: number; ben: number; tokens: Record<number, string> };

async function crew(): Promise<Crew> {
	const [owner, ann, ben] = [await registerUser(app), await registerUser(app), await registerUser(app)];
	return {
		owner,
		ann,
		ben,
		tokens: { [owner]: await userToken(app, owner), [ann]: await userToken(app, ann), [ben]: await userToken(app, ben) },
	};
}

async function createGroup(token: string, body: Record<string, unknown>) {
	const reply = await call("/group/create", { app, token, body });
	expect(reply.status).toBe(200);
	return reply.body.data.group_id as number;
}

const groupSend = (token: string | undefined, groupId: number, content: string, extra: Record<string, unknown> = {}) =>
	send(app, token, { type: 2, targets: [groupId], content, ...extra });

describe("group registry", () => {
	it("create: the caller owns it; group info has group_id, owner_id, count, created_at", async () => {
		const c = await crew();
		const reply = await call("/group/create", {
			app,
			token: c.tokens[c.owner],
			body: { name: "crew", description: "d", user_list: [c.ann] },
		});
		expect(reply.status).toBe(200);
		expect(reply.body.data).toEqual({
			group_id: expect.any(Number),
			name: "crew",
			description: "d",
			avatar: "",
			owner_id: c.owner,
			count: 2,
			created_at: expect.any(Number),
		});
	});

	it("create without a body makes an empty group owned by the caller; type 0 and 1 make ordinary groups", async () => {
		const c = await crew();
		for (const rawBody of [undefined, "", "  "]) {
			const reply = await call("/group/create", { app, token: c.tokens[c.owner], method: "POST", rawBody });
			expect(reply.status, JSON.stringify(rawBody)).toBe(200);
			expect(reply.body.data).toMatchObject({ owner_id: c.owner, count: 1, name: "" });
		}
		for (const type of [0, 1, "1"]) {
			const reply = await call("/group/create", { app, token: c.tokens[c.owner], body: { type, user_list: [c.ann] } });
			expect(reply.status, String(type)).toBe(200);
			expect(reply.body.data).toMatchObject({ count: 2 });
		}
	});

	it("create with type 2 (a chatroom) is 400 saying chatrooms are not supported, and creates nothing", async () => {
		const c = await crew();
		const before = (await call("/group/user_joined", { app, token: c.tokens[c.owner] })).body.data;
		const reply = await call("/group/create", { app, token: c.tokens[c.owner], body: { name: "room", type: 2 } });
		expect(reply.status).toBe(400);
		expect(reply.body).toEqual({
			code: 400,
			message: 'Field "type" 2 (a chatroom) is not supported; use 0 (private) or 1 (public).',
			data: null,
		});
		expect((await call("/group/create", { app, token: c.tokens[c.owner], body: { type: 3 } })).status).toBe(400);
		expect((await call("/group/user_joined", { app, token: c.tokens[c.owner] })).body.data).toEqual(before);
	});

	it("group ids and user ids share one id space", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, {});
		const later = await registerUser(app);
		expect(new Set([c.owner, c.ann, c.ben, groupId, later]).size).toBe(5);
		expect(later).toBeGreaterThan(groupId);
	});

	it("invite: the owner or an admin adds members at once, with a result row per user", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		const reply = await call("/group/invite", {
			app,
			token: c.tokens[c.owner],
			body: { group_id: groupId, user_list: [c.ben, c.ann, 999999] },
		});
		expect(reply.status).toBe(200);
		expect(reply.body.data).toEqual([
			{ user_id: c.ben, result: "success", reason: "" },
			{ user_id: c.ann, result: "fail", reason: "already a member" },
			{ user_id: 999999, result: "fail", reason: "user does not exist" },
		]);
		expect((await call("/group/user_joined", { app, token: c.tokens[c.ben] })).body.data).toEqual([groupId]);
		const byMember = await call("/group/invite", {
			app,
			token: c.tokens[c.ann],
			body: { group_id: groupId, user_list: [await registerUser(app)] },
		});
		expect(byMember.status).toBe(403);
		const byAdmin = await call("/group/invite", { app, body: { group_id: groupId, user_list: [await registerUser(app)] } });
		expect(byAdmin.status).toBe(200);
	});

	it("invite and kick with an empty user_list answer []; a repeated id gets one row", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, {});
		for (const path of ["/group/invite", "/group/kick"]) {
			const empty = await call(path, { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [] } });
			expect(empty.status, path).toBe(200);
			expect(empty.body.data, path).toEqual([]);
		}
		const repeated = await call("/group/invite", {
			app,
			token: c.tokens[c.owner],
			body: { group_id: groupId, user_list: [c.ann, c.ann, String(c.ann)] },
		});
		expect(repeated.body.data).toEqual([{ user_id: c.ann, result: "success", reason: "" }]);
		const kicked = await call("/group/kick", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ann, c.ann] } });
		expect(kicked.body.data).toEqual([{ user_id: c.ann, result: "success", reason: "" }]);
		// An empty list still needs the rights: a non-member's is 403.
		expect((await call("/group/invite", { app, token: c.tokens[c.ben], body: { group_id: groupId, user_list: [] } })).status).toBe(403);
	});

	it("kick (owner/admin) and leave (a member; not the owner unless an admin acts)", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		const kicked = await call("/group/kick", {
			app,
			method: "DELETE",
			token: c.tokens[c.owner],
			body: { group_id: groupId, user_list: [c.ann, c.owner] },
		});
		expect(kicked.body.data).toEqual([
			{ user_id: c.ann, result: "success", reason: "" },
			{ user_id: c.owner, result: "fail", reason: "the owner cannot be kicked" },
		]);
		expect((await call("/group/leave", { app, method: "POST", token: c.tokens[c.ben], query: { group_id: groupId } })).status).toBe(200);
		expect((await call("/group/leave", { app, method: "POST", token: c.tokens[c.ben], query: { group_id: groupId } })).status).toBe(404);
		expect((await call("/group/leave", { app, method: "DELETE", token: c.tokens[c.owner], query: { group_id: groupId } })).status).toBe(
			403,
		);
		const asOwner = await call("/group/leave", {
			app,
			method: "DELETE",
			headers: { user_id: String(c.owner) },
			query: { group_id: groupId },
		});
		expect(asOwner.status).toBe(200);
	});

	it("member_list pages with a cursor; user_joined lists the caller's groups", async () => {
		const c = await crew();
		const extra = [await registerUser(app), await registerUser(app), await registerUser(app)];
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben, ...extra] });
		const seen: number[] = [];
		let cursor = "";
		for (let i = 0; i < 10; i++) {
			const page = await call("/group/member_list", {
				app,
				token: c.tokens[c.ann],
				query: cursor ? { group_id: groupId, limit: 2, cursor } : { group_id: groupId, limit: 2 },
			});
			expect(page.status).toBe(200);
			for (const member of page.body.data)
				expect(member).toEqual({ user_id: expect.any(Number), display_name: "", join_time: expect.any(Number) });
			seen.push(...page.body.data.map((m: any) => m.user_id));
			cursor = page.body.cursor;
			if (!cursor) break;
		}
		expect(seen).toEqual([c.owner, c.ann, c.ben, ...extra].sort((a, b) => a - b));
		const outsider = await registerUser(app);
		expect((await call("/group/member_list", { app, token: await userToken(app, outsider), query: { group_id: groupId } })).status).toBe(
			403,
		);
	});

	it("destroy: owner or admin; afterwards the group is gone from lists and takes no messages", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		expect((await call("/group/destroy", { app, method: "DELETE", token: c.tokens[c.ann], query: { group_id: groupId } })).status).toBe(
			403,
		);
		expect((await call("/group/destroy", { app, method: "POST", token: c.tokens[c.owner], query: { group_id: groupId } })).status).toBe(
			200,
		);
		expect((await call("/group/user_joined", { app, token: c.tokens[c.ann] })).body.data).toEqual([]);
		expect((await groupSend(c.tokens[c.owner], groupId, "anyone?")).status).toBe(403);
		expect((await call("/group/destroy", { app, method: "POST", query: { group_id: groupId } })).status).toBe(404);
	});
});

describe("group conversations", () => {
	it("a member sends; every other member's unread +1; the sender's read position moves", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		expect(await entryFor(app, c.tokens[c.ann] as string, groupId)).toMatchObject({ num: 0, type: 2 });
		const reply = await groupSend(c.tokens[c.ann], groupId, "hello group");
		expect(reply.status).toBe(200);
		const [msgId] = reply.body.msg_ids;
		expect(await entryFor(app, c.tokens[c.owner] as string, groupId)).toMatchObject({
			num: 1,
			last_msg_id: msgId,
			type: 2,
			conversation_id: { uid: groupId },
		});
		expect(await entryFor(app, c.tokens[c.ben] as string, groupId)).toMatchObject({ num: 1 });
		expect(await entryFor(app, c.tokens[c.ann] as string, groupId)).toMatchObject({ num: 0, last_msg_id: msgId });
		const [message] = await allMessages(app, c.tokens[c.ben] as string, groupId);
		expect(message).toMatchObject({
			msg_id: msgId,
			type: "GROUPCHAT",
			to_xid: { uid: groupId },
			from_xid: { uid: c.ann },
			status: "DELIVERED",
		});
		const [mine] = await allMessages(app, c.tokens[c.ann] as string, groupId);
		expect(mine.status).toBe("DELIVERED");
	});

	it("a non-member cannot send (403) unless an admin sends with from_user_id; unknown group 404", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		expect((await groupSend(c.tokens[c.ben], groupId, "let me in")).status).toBe(403);
		const byAdmin = await call("/message/send", {
			app,
			body: { type: 2, from_user_id: c.ben, targets: [groupId], content_type: 0, content: "admin rights" },
		});
		expect(byAdmin.status).toBe(200);
		const asBen = await call("/message/send", {
			app,
			headers: { user_id: String(c.ben) },
			body: { type: 2, targets: [groupId], content_type: 0, content: "acting" },
		});
		expect(asBen.status).toBe(403);
		expect((await groupSend(c.tokens[c.ann], 999999, "nowhere")).status).toBe(404);
		expect((await groupSend(c.tokens[c.ann], c.ben, "a user is not a group")).status).toBe(404);
	});

	it("a member sees history from when they joined; a non-member gets 403", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		await groupSend(c.tokens[c.owner], groupId, "before ben");
		await call("/group/invite", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ben] } });
		await groupSend(c.tokens[c.owner], groupId, "after ben");
		expect((await allMessages(app, c.tokens[c.ben] as string, groupId)).map((m) => m.content)).toEqual(["after ben"]);
		expect((await allMessages(app, c.tokens[c.ann] as string, groupId)).map((m) => m.content)).toEqual(["after ben", "before ben"]);
		expect((await entryFor(app, c.tokens[c.ben] as string, groupId)).num).toBe(1);
		const outsider = await userToken(app, await registerUser(app));
		expect((await history(app, outsider, { opposite_id: groupId })).status).toBe(403);
	});

	it("the group's object remembers who may send, and every change it makes: kick, leave, invite back, destroy, eviction", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		const status = async (token: string | undefined, content: string) => (await groupSend(token, groupId, content)).status;
		// Each sender is checked once and then known to the object.
		expect([await status(c.tokens[c.ann], "a1"), await status(c.tokens[c.ben], "b1")]).toEqual([200, 200]);
		await call("/group/kick", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ann] } });
		expect(await status(c.tokens[c.ann], "after kick")).toBe(403);
		await call("/group/leave", { app, token: c.tokens[c.ben], method: "POST", query: { group_id: groupId } });
		expect(await status(c.tokens[c.ben], "after leave")).toBe(403);
		await call("/group/invite", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ann] } });
		expect(await status(c.tokens[c.ann], "back")).toBe(200);
		// An evicted object knows nothing and reads D1 again.
		await evictDurableObject(conversationObject(env, app.appId, groupKey(groupId)));
		expect([await status(c.tokens[c.ann], "after eviction"), await status(c.tokens[c.ben], "still out")]).toEqual([200, 403]);
		await call("/group/destroy", { app, token: c.tokens[c.owner], method: "POST", query: { group_id: groupId } });
		expect(await status(c.tokens[c.owner], "after destroy")).toBe(403);
		expect((await allMessages(app, c.tokens[c.owner] as string, groupId)).map((m) => m.content)).toEqual([
			"after eviction",
			"back",
			"b1",
			"a1",
		]);
	});

	it("a removed member keeps what they saw, gets nothing new, cannot send; a destroyed group's history stays readable", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		await groupSend(c.tokens[c.owner], groupId, "one");
		await call("/group/kick", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ann] } });
		const [two] = (await groupSend(c.tokens[c.owner], groupId, "two")).body.msg_ids;
		expect((await allMessages(app, c.tokens[c.ann] as string, groupId)).map((m) => m.content)).toEqual(["one"]);
		// Starting above the removal does not reach past it either.
		const fromTwo = await history(app, c.tokens[c.ann] as string, { opposite_id: groupId, msg_id_start: two });
		expect(fromTwo.body.data.messages.map((m: { content: string }) => m.content)).toEqual(["one"]);
		expect(await entryFor(app, c.tokens[c.ann] as string, groupId)).toMatchObject({ num: 1 });
		expect((await groupSend(c.tokens[c.ann], groupId, "still here?")).status).toBe(403);
		await call("/group/destroy", { app, token: c.tokens[c.owner], method: "POST", query: { group_id: groupId } });
		expect((await allMessages(app, c.tokens[c.ben] as string, groupId)).map((m) => m.content)).toEqual(["two", "one"]);
	});

	it("a removed member may not APPEND or REPLACE their old group messages; a destroyed group takes no edits, not even an admin's (403, unchanged)", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		const [annsMessage] = (await groupSend(c.tokens[c.ann], groupId, "ann wrote this")).body.msg_ids;
		const edit = (token: string | undefined, content_type: number, content: string, extra: Record<string, unknown> = {}) =>
			send(app, token, { type: 2, targets: [groupId], content_type, related_mid: annsMessage, content, ...extra });
		expect((await edit(c.tokens[c.ann], 11, " (edited)")).status).toBe(200); // a member may
		await call("/group/kick", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ann] } });
		for (const [type, text] of [
			[11, " after kick"],
			[12, "replaced after kick"],
		] as const) {
			const reply = await edit(c.tokens[c.ann], type, text);
			expect(reply.status).toBe(403);
			expect(reply.body.message).toBe(`User ${c.ann} is not a member of group ${groupId}.`);
		}
		const seen = async () => (await allMessages(app, c.tokens[c.ben] as string, groupId)).find((m) => m.msg_id === annsMessage)?.content;
		expect(await seen()).toBe("ann wrote this (edited)");
		// The app admin still may, while the group lives; once destroyed, nobody may.
		expect((await edit(undefined, 12, "moderated", { from_user_id: c.ann })).status).toBe(200);
		await call("/group/destroy", { app, token: c.tokens[c.owner], method: "POST", query: { group_id: groupId } });
		for (const token of [undefined, c.tokens[c.owner]]) {
			const reply = await edit(token, 12, "after destroy", token ? {} : { from_user_id: c.ann });
			expect(reply.status).toBe(403);
			expect(reply.body.message).toBe(`Group ${groupId} was destroyed; it takes no edits.`);
		}
		expect(await seen()).toBe("moderated");
	});

	it("no answer tells a removed member or a non-member which ids exist: 403 whatever msg_id names", async () => {
		const c = await crew();
		const outsider = await registerUser(app);
		const outsiderToken = await userToken(app, outsider);
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		const [seenByAnn] = (await groupSend(c.tokens[c.owner], groupId, "before")).body.msg_ids;
		const [annsOwn] = (await groupSend(c.tokens[c.ann], groupId, "ann's own")).body.msg_ids;
		const [unreadByAnn] = (await groupSend(c.tokens[c.owner], groupId, "before, not read yet")).body.msg_ids;
		await call("/group/kick", { app, token: c.tokens[c.owner], body: { group_id: groupId, user_list: [c.ann] } });
		const [afterKick] = (await groupSend(c.tokens[c.owner], groupId, "after")).body.msg_ids;
		const missing = afterKick + 1000;
		const annToken = c.tokens[c.ann] as string;
		// A removed member: ack of a message sent after the removal, existing or not, is 403 and moves nothing.
		for (const msgId of [afterKick, missing]) {
			const reply = await ack(app, annToken, groupId, msgId);
			expect(reply.status, String(msgId)).toBe(403);
			const op = await send(app, annToken, { type: 2, targets: [groupId], content_type: 9, related_mid: msgId });
			expect(op.status, `READ_ACK ${msgId}`).toBe(403);
		}
		// docs/API.md: through send a removed member may not READ_ACK at all, not even what they saw; it moves nothing.
		const readAck = await send(app, annToken, { type: 2, targets: [groupId], content_type: 9, related_mid: unreadByAnn });
		expect(readAck.status).toBe(403);
		expect(await entryFor(app, annToken, groupId)).toMatchObject({ num: 1 });
		// docs/API.md: /message/ack still marks read what they saw.
		expect((await ack(app, annToken, groupId, unreadByAnn)).status).toBe(200);
		expect(await entryFor(app, annToken, groupId)).toMatchObject({ num: 0 });
		// A non-member: 403 for every id.
		for (const msgId of [seenByAnn, missing]) {
			expect((await ack(app, outsiderToken, groupId, msgId)).status, `ack ${msgId}`).toBe(403);
			expect((await recall(app, outsiderToken, groupId, msgId)).status, `recall ${msgId}`).toBe(403);
		}
		// Recall by a removed member: 403 for every id (their own old message included).
		for (const msgId of [seenByAnn, annsOwn, missing]) {
			expect((await recall(app, annToken, groupId, msgId)).status, `removed recall ${msgId}`).toBe(403);
		}
	});

	it("a group's admin (header group_id) has rights in that group only: naming another group grants nothing", async () => {
		const c = await crew();
		const mine = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		const other = await createGroup(c.tokens[c.ben] as string, { user_list: [c.ann] });
		const [inOther] = (await groupSend(c.tokens[c.ann], other, "not yours to recall")).body.msg_ids;
		for (const named of [other, mine]) {
			const reply = await recall(app, undefined, named, inOther, { group_id: String(mine) });
			expect(reply.status, `conversation_id ${named}`).toBe(404);
		}
		const seen = await allMessages(app, c.tokens[c.ben] as string, other);
		expect(seen.find((m) => m.msg_id === inOther)).toMatchObject({ recalled: false, content: "not yours to recall" });
		// In its own group the same header does recall.
		const [inMine] = (await groupSend(c.tokens[c.ann], mine, "yours")).body.msg_ids;
		expect((await recall(app, undefined, mine, inMine, { group_id: String(mine) })).status).toBe(200);
	});

	it("ack and delete in a group", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		const ids = [];
		for (let i = 0; i < 3; i++) ids.push((await groupSend(c.tokens[c.owner], groupId, `g${i}`)).body.msg_ids[0]);
		expect((await ack(app, c.tokens[c.ann] as string, groupId, ids[1])).status).toBe(200);
		expect((await entryFor(app, c.tokens[c.ann] as string, groupId)).num).toBe(1);
		expect((await deleteConversation(app, c.tokens[c.ann] as string, groupId)).status).toBe(200);
		expect(await entryFor(app, c.tokens[c.ann] as string, groupId)).toBeUndefined();
		await groupSend(c.tokens[c.owner], groupId, "back");
		expect((await allMessages(app, c.tokens[c.ann] as string, groupId)).map((m) => m.content)).toEqual(["back"]);
	});

	it("recall in a group: the sender, the app admin, the group's admin (group_id header); unread drops for those who had not read", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann, c.ben] });
		const [m1] = (await groupSend(c.tokens[c.ann], groupId, "by ann")).body.msg_ids;
		const [m2] = (await groupSend(c.tokens[c.ann], groupId, "by ann too")).body.msg_ids;
		const [m3] = (await groupSend(c.tokens[c.ann], groupId, "and again")).body.msg_ids;
		expect((await recall(app, c.tokens[c.ben], groupId, m1)).status).toBe(403);
		expect((await recall(app, c.tokens[c.ann], groupId, m1)).status).toBe(200);
		expect((await recall(app, undefined, groupId, m2)).status).toBe(200);
		expect((await recall(app, undefined, groupId, m3, { group_id: String(groupId) })).status).toBe(200);
		expect((await entryFor(app, c.tokens[c.ben] as string, groupId)).num).toBe(0);
		expect((await allMessages(app, c.tokens[c.owner] as string, groupId)).every((m) => m.recalled)).toBe(true);
	});

	it("notify into a group", async () => {
		const c = await crew();
		const groupId = await createGroup(c.tokens[c.owner] as string, { user_list: [c.ann] });
		const reply = await call("/message/notify", { app, body: { type: 2, targets: [groupId], content_type: 0, content: "system says hi" } });
		expect(reply.status).toBe(200);
		expect(await entryFor(app, c.tokens[c.owner] as string, groupId)).toMatchObject({ num: 1 });
		const [message] = await allMessages(app, c.tokens[c.ann] as string, groupId);
		expect(message).toMatchObject({ is_system: true, from_xid: { uid: 0 } });
	});
});
