import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allMessages, call, createApp, history, registerUser, send, snapshot, type TestApp, unreadOf, userToken } from "./support";

let app: TestApp;
let alice: number;
let bob: number;
let carol: number;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
	app = await createApp();
	[alice, bob, carol] = [await registerUser(app), await registerUser(app), await registerUser(app)];
	aliceToken = await userToken(app, alice);
	bobToken = await userToken(app, bob);
});

const side = (userId: number, peerId: number) =>
	env.DB.prepare("SELECT * FROM conversation_members WHERE app_id = ? AND user_id = ? AND peer_id = ?")
		.bind(app.appId, userId, peerId)
		.first<Record<string, number>>();

const asAdmin = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
	call("/message/send", { app, headers, body: { type: 1, content_type: 0, ...body } });

describe("POST /message/send (type 1)", () => {
	it("quotes, backslashes, control characters, NUL, line separators and emoji come back exactly", async () => {
		const tricky = 'q"b\\s\u0000n\u0001\u001f\t\n\r\u2028\u2029😀 "}]';
		const reply = await send(app, aliceToken, { targets: [bob], content: tricky, ext: tricky, config: tricky });
		expect(reply.status).toBe(200);
		const [message] = (await history(app, bobToken, { opposite_id: alice, limit: 1 })).body.data.messages;
		expect(message).toMatchObject({ msg_id: reply.body.msg_ids[0], content: tricky, ext: tricky, config: tricky });
	});

	it("a user sends as itself and the peer reads it back byte for byte, every field in its place", async () => {
		const ext = '{"k":1, "emoji":"😀"}';
		const config = '{"antispam":false}';
		const attachment = '{"url":"https://files.example/a.pdf"}';
		// From device 6, with a value of its own in each field: history's page is built column by column in SQL.
		const fromDevice6 = await userToken(app, alice, { device_sn: 6 });
		const reply = await send(app, fromDevice6, { targets: [bob], content: "hello bob", ext, config, attachment });
		expect(reply.status).toBe(200);
		expect(reply.body).toEqual({ code: 200, message: "", data: true, msg_ids: [expect.any(Number)] });
		const [msgId] = reply.body.msg_ids;

		const page = await history(app, bobToken, { opposite_id: alice });
		expect(page.status).toBe(200);
		expect(page.body.data.messages[0]).toEqual({
			msg_id: msgId,
			type: "CHAT",
			ctype: "TEXT",
			content: "hello bob",
			attachment,
			config,
			ext,
			timestamp: expect.any(Number),
			status: "DELIVERED",
			from_xid: { uid: alice, device_sn: 6 },
			to_xid: { uid: bob, device_sn: 0 },
			recalled: false,
			is_system: false,
		});
	});

	it("the receiver's unread count grows by one; the sender's read position moves to the message", async () => {
		const before = await unreadOf(app, bob, alice);
		const reply = await send(app, aliceToken, { targets: [bob], content: "count me" });
		const [msgId] = reply.body.msg_ids;
		expect(await unreadOf(app, bob, alice)).toBe(before + 1);
		expect(await side(bob, alice)).toMatchObject({ deleted: 0, type: 1 });
		expect(await unreadOf(app, alice, bob)).toBe(0);
		expect(await side(alice, bob)).toMatchObject({ read_position: msgId, deleted: 0 });
		for (const [me, token] of [
			[bob, bobToken],
			[alice, aliceToken],
		] as const) {
			expect((await call("/message/unread", { app, token })).body.data[0]).toMatchObject({
				conversation_id: { uid: me === bob ? alice : bob },
				last_msg_id: msgId,
			});
		}
	});

	it("a reply: the replier's unread drops to 0 and its read position and device move; the receiver's stay", async () => {
		const [dan, eve] = [await registerUser(app), await registerUser(app)];
		const danToken = await userToken(app, dan, { device_sn: 3 });
		const eveToken = await userToken(app, eve, { device_sn: 5 });
		const [m1] = (await send(app, danToken, { targets: [eve], content: "one" })).body.msg_ids;
		expect(await unreadOf(app, eve, dan)).toBe(1);
		expect(await side(eve, dan)).toMatchObject({ read_position: 0 });
		const [m2] = (await send(app, eveToken, { targets: [dan], content: "two" })).body.msg_ids;
		const [m3] = (await send(app, eveToken, { targets: [dan], content: "three" })).body.msg_ids;
		// Each side keeps what is its own: the replier's read position and device move, the receiver's stay.
		expect(await unreadOf(app, eve, dan)).toBe(0);
		expect(await side(eve, dan)).toMatchObject({ read_position: m3, read_device_sn: 5 });
		expect(await unreadOf(app, dan, eve)).toBe(2);
		expect(await side(dan, eve)).toMatchObject({ read_position: m1, read_device_sn: 3 });
		expect(m2).toBeLessThan(m3 as number);
	});

	it("a user token may name itself in from_user_id, not anyone else (403)", async () => {
		expect((await send(app, aliceToken, { targets: [bob], content: "me", from_user_id: alice })).status).toBe(200);
		const reply = await send(app, aliceToken, { targets: [bob], content: "spoof", from_user_id: carol });
		expect(reply.status).toBe(403);
		expect(reply.body.message).toContain('"from_user_id"');
	});

	it("the admin names the sender with from_user_id", async () => {
		const reply = await asAdmin({ from_user_id: carol, targets: [alice], content: "from carol via admin" });
		expect(reply.status).toBe(200);
		const page = await history(app, aliceToken, { opposite_id: carol });
		expect(page.body.data.messages[0]).toMatchObject({ content: "from carol via admin", from_xid: { uid: carol } });
	});

	it("the admin must name a sender (400), and from_user_id must agree with header user_id (400)", async () => {
		const none = await asAdmin({ targets: [alice], content: "who?" });
		expect(none.status).toBe(400);
		expect(none.body.message).toContain('"from_user_id"');
		const disagree = await asAdmin({ from_user_id: carol, targets: [alice], content: "x" }, { user_id: String(bob) });
		expect(disagree.status).toBe(400);
		const agree = await asAdmin({ from_user_id: bob, targets: [alice], content: "x" }, { user_id: String(bob) });
		expect(agree.status).toBe(200);
	});

	it("the sender must be a registered user (404)", async () => {
		const reply = await asAdmin({ from_user_id: 888888, targets: [alice], content: "ghost" });
		expect(reply.status).toBe(404);
		expect(reply.body.message).toBe("Sender 888888 does not exist.");
	});

	it("every target is validated first: one unknown target is 404 naming it, and nothing is sent", async () => {
		const before = await snapshot();
		const reply = await send(app, aliceToken, { targets: [bob, 777777, carol], content: "all or nothing" });
		expect(reply.status).toBe(404);
		expect(reply.body.message).toBe("Target user 777777 does not exist.");
		expect(await snapshot()).toBe(before);
	});

	it("sending to oneself is 400", async () => {
		const reply = await send(app, aliceToken, { targets: [alice], content: "me" });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain('"targets"');
	});

	it("several targets: one message per conversation, msg_ids in target order", async () => {
		const dave = await registerUser(app);
		const reply = await send(app, aliceToken, { targets: [dave, bob, carol], content: "fan out" });
		expect(reply.status).toBe(200);
		const [toDave, toBob, toCarol] = reply.body.msg_ids;
		expect(new Set([toDave, toBob, toCarol]).size).toBe(3);
		for (const [peer, id] of [
			[dave, toDave],
			[bob, toBob],
			[carol, toCarol],
		]) {
			const token = await userToken(app, peer);
			const page = await history(app, token, { opposite_id: alice, limit: 1 });
			expect(page.body.data.messages[0]).toMatchObject({ msg_id: id, content: "fan out", to_xid: { uid: peer } });
		}
	});

	it("content up to 10,000 characters (code points) is accepted; one more is 400", async () => {
		const emoji = "😀".repeat(10_000); // 20,000 UTF-16 units, 10,000 code points
		expect((await send(app, aliceToken, { targets: [bob], content: emoji })).status).toBe(200);
		const reply = await send(app, aliceToken, { targets: [bob], content: `${emoji}x` });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toBe('Field "content" must be at most 10000 characters.');
	});

	it("ext, config and attachment hold up to 4,096 characters each", async () => {
		for (const field of ["ext", "config", "attachment"]) {
			expect((await send(app, aliceToken, { targets: [bob], content: "ok", [field]: "é".repeat(4096) })).status).toBe(200);
			const reply = await send(app, aliceToken, { targets: [bob], content: "ok", [field]: "é".repeat(4097) });
			expect(reply.status).toBe(400);
			expect(reply.body.message).toBe(`Field "${field}" must be at most 4096 characters.`);
		}
	});

	it("TEXT, LOCATION, COMMAND and FORWARD need content", async () => {
		for (const contentType of [0, 5, 6, 7]) {
			const reply = await send(app, aliceToken, { targets: [bob], content_type: contentType, content: "" });
			expect(reply.status).toBe(400);
			expect(reply.body.message).toContain('"content" is required');
		}
	});

	it("IMAGE, AUDIO, VIDEO and FILE need an attachment object with an http(s) url", async () => {
		const good = JSON.stringify({ url: "https://cdn.example/a.png", width: 10 });
		for (const contentType of [1, 2, 3, 4]) {
			const ok = await send(app, aliceToken, { targets: [bob], content_type: contentType, attachment: good });
			expect(ok.status).toBe(200);
			for (const attachment of [undefined, "", "not json", "[]", '{"url":"ftp://x/y"}', '{"url":5}', '{"name":"x"}']) {
				const reply = await send(app, aliceToken, { targets: [bob], content_type: contentType, attachment });
				expect(reply.status, `${contentType} ${attachment}`).toBe(400);
				expect(reply.body.message).toContain('"attachment"');
			}
		}
		const page = await history(app, bobToken, { opposite_id: alice, limit: 1 });
		expect(page.body.data.messages[0]).toMatchObject({ ctype: "FILE", attachment: good });
	});

	it("every content type is returned by its upper-case name", async () => {
		const names = ["TEXT", "IMAGE", "AUDIO", "VIDEO", "FILE", "LOCATION", "COMMAND", "FORWARD"];
		const attachment = '{"url":"http://x.test/f"}';
		for (let contentType = 0; contentType < names.length; contentType++) {
			await send(app, bobToken, { targets: [carol], content_type: contentType, content: "c", attachment });
		}
		const carolToken = await userToken(app, carol);
		const seen = (await allMessages(app, carolToken, bob)).reverse();
		expect(seen.map((m) => m.ctype)).toEqual(names);
	});
});
