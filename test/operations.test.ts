import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { asUser, connect } from "./channels";
import { allMessages, call, createApp, entryFor, history, registerUser, send, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;
let bot: number;
let user: number;
let botToken: string;
let userTokenValue: string;

beforeAll(async () => {
	app = await createApp();
	[bot, user] = [await registerUser(app), await registerUser(app)];
	[botToken, userTokenValue] = [await userToken(app, bot), await userToken(app, user)];
});

afterEach(() => vi.restoreAllMocks());

const op = (token: string | undefined, body: Record<string, unknown>) => send(app, token, body);
const count = async () => (await allMessages(app, userTokenValue, bot)).length;

describe("operations through /message/send", () => {
	it("a streamed reply (TEXT, APPEND chunks, final REPLACE) reads back as one message with the final text", async () => {
		const before = await count();
		const unreadBefore = (await entryFor(app, userTokenValue, bot))?.num ?? 0;
		const [mid] = (await op(botToken, { targets: [user], content: "Hel" })).body.msg_ids;
		for (const chunk of ["lo", ", wor", "ld"]) {
			const reply = await op(botToken, { targets: [String(user)], content_type: 11, related_mid: String(mid), content: chunk });
			expect(reply.status).toBe(200);
			expect(reply.body.msg_ids).toEqual([mid]);
		}
		expect((await history(app, userTokenValue, { opposite_id: bot, limit: 1 })).body.data.messages[0].content).toBe("Hello, world");
		const final = await op(botToken, {
			targets: [user],
			content_type: 12,
			related_mid: mid,
			content: "Hello, world!",
			ext: '{"done":true}',
		});
		expect(final.status).toBe(200);
		const [message] = (await history(app, userTokenValue, { opposite_id: bot, limit: 1 })).body.data.messages;
		expect(message).toMatchObject({ msg_id: mid, ctype: "TEXT", content: "Hello, world!", ext: '{"done":true}' });
		expect(await count()).toBe(before + 1);
		expect((await entryFor(app, userTokenValue, bot)).num).toBe(unreadBefore + 1);
	});

	it('an APPEND whose content is "" is accepted and changes nothing (a stream may send an empty chunk)', async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "chunk" })).body.msg_ids;
		const empty = await op(botToken, { targets: [user], content_type: 11, related_mid: mid, content: "" });
		expect(empty.status).toBe(200);
		expect(empty.body.msg_ids).toEqual([mid]);
		const omitted = await op(botToken, { targets: [user], content_type: 11, related_mid: mid });
		expect(omitted.status).toBe(200);
		const [message] = (await history(app, userTokenValue, { opposite_id: bot, limit: 1 })).body.data.messages;
		expect(message).toMatchObject({ msg_id: mid, content: "chunk" });
		// The rights still come first: someone else's empty APPEND is 403.
		expect((await op(userTokenValue, { targets: [bot], content_type: 11, related_mid: mid, content: "" })).status).toBe(403);
	});

	it('REPLACE keeps fields sent as "" or left out', async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "v1", ext: "e1", config: "c1" })).body.msg_ids;
		await op(botToken, { targets: [user], content_type: 12, related_mid: mid, content: "", config: "c2" });
		const [message] = (await history(app, userTokenValue, { opposite_id: bot, limit: 1 })).body.data.messages;
		expect(message).toMatchObject({ content: "v1", ext: "e1", config: "c2" });
	});

	it("an admin may REPLACE another user's message (e.g. audio → transcript); others may not (403)", async () => {
		const [mid] = (await op(userTokenValue, { targets: [bot], content_type: 2, attachment: '{"url":"https://x.test/a.ogg"}' })).body
			.msg_ids;
		const byBot = await op(botToken, { targets: [user], content_type: 12, related_mid: mid, content: "nope" });
		expect(byBot.status).toBe(403);
		const byAdmin = await call("/message/send", {
			app,
			body: { from_user_id: bot, targets: [user], type: 1, content_type: 12, related_mid: mid, content: "the transcript" },
		});
		expect(byAdmin.status).toBe(200);
		const [message] = (await history(app, userTokenValue, { opposite_id: bot, limit: 1 })).body.data.messages;
		expect(message).toMatchObject({ msg_id: mid, ctype: "AUDIO", content: "the transcript", from_xid: { uid: user } });
	});

	it("READ_ACK behaves as /message/ack", async () => {
		const ids = [];
		for (let i = 0; i < 3; i++) ids.push((await op(botToken, { targets: [user], content: `r${i}` })).body.msg_ids[0]);
		const reply = await op(userTokenValue, { targets: [bot], content_type: 9, related_mid: ids[1] });
		expect(reply.status).toBe(200);
		expect(reply.body.msg_ids).toEqual([ids[1]]);
		expect((await entryFor(app, userTokenValue, bot)).num).toBe(1);
		expect((await op(userTokenValue, { targets: [bot], content_type: 9, related_mid: 99999999 })).status).toBe(404);
	});

	it("RECALL behaves as /message/recall, window included", async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "recall via send" })).body.msg_ids;
		expect((await op(userTokenValue, { targets: [bot], content_type: 10, related_mid: mid })).status).toBe(403);
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 121_000);
		expect((await op(botToken, { targets: [user], content_type: 10, related_mid: mid })).status).toBe(403);
		vi.restoreAllMocks();
		expect((await op(botToken, { targets: [user], content_type: 10, related_mid: mid })).status).toBe(200);
		const tomb = (await allMessages(app, userTokenValue, bot)).find((m) => m.msg_id === mid);
		expect(tomb).toMatchObject({ recalled: true, content: "" });
	});

	it("APPEND or REPLACE of a recalled message is 409; a related_mid outside the conversation is 404", async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "gone" })).body.msg_ids;
		await op(botToken, { targets: [user], content_type: 10, related_mid: mid });
		expect((await op(botToken, { targets: [user], content_type: 11, related_mid: mid, content: "x" })).status).toBe(409);
		expect((await op(botToken, { targets: [user], content_type: 12, related_mid: mid, content: "x" })).status).toBe(409);
		const other = await registerUser(app);
		const [elsewhere] = (await op(botToken, { targets: [other], content: "other conversation" })).body.msg_ids;
		expect((await op(botToken, { targets: [user], content_type: 11, related_mid: elsewhere, content: "x" })).status).toBe(404);
	});

	it("related_mid 0 means none: an operation needs one (400), a message ignores it", async () => {
		expect((await op(botToken, { targets: [user], content_type: 11, related_mid: 0, content: "x" })).status).toBe(400);
		expect((await op(botToken, { targets: [user], content_type: 0, related_mid: 0, content: "plain" })).status).toBe(200);
		const two = await registerUser(app);
		expect((await op(botToken, { targets: [user, two], content_type: 11, related_mid: 1, content: "x" })).status).toBe(400);
	});

	it("APPEND never grows content beyond 10,000 characters", async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "x".repeat(9_998) })).body.msg_ids;
		expect((await op(botToken, { targets: [user], content_type: 11, related_mid: mid, content: "yy" })).status).toBe(200);
		const over = await op(botToken, { targets: [user], content_type: 11, related_mid: mid, content: "z" });
		expect(over.status).toBe(400);
		expect(over.body.message).toContain("10000");
	});

	it.each([
		["a javascript: url", '{"url":"javascript:alert(1)"}'],
		["a data: url", '{"url":"data:text/html,<script>alert(1)</script>"}'],
		["raw HTML", "<img src=x onerror=alert(1)>"],
		["JSON without a url", '{"name":"cat.png"}'],
		["a url that is not a string", '{"url":42}'],
	])(
		"an edit obeys the rules of a new message of the original's type: REPLACE of an IMAGE with %s is 400, stored or online_only, and nothing changes or is relayed",
		async (_, attachment) => {
			const [mid] = (await op(botToken, { targets: [user], content_type: 1, attachment: '{"url":"https://cdn.test/cat.png"}' })).body
				.msg_ids;
			const userChannel = await connect(asUser(app, userTokenValue));
			const before = await snapshot();
			for (const online_only of [false, true]) {
				const replaced = await op(botToken, { targets: [user], content_type: 12, related_mid: mid, attachment, online_only });
				expect(replaced.status).toBe(400);
				expect(replaced.body.message).toBe('Field "attachment" must be a JSON object string with an http(s) "url" for IMAGE messages.');
				// An admin's edit obeys the same rules.
				const byAdmin = await call("/message/send", {
					app,
					body: { from_user_id: bot, type: 1, targets: [user], content_type: 12, related_mid: mid, attachment, online_only },
				});
				expect(byAdmin.status).toBe(400);
			}
			expect(await snapshot()).toBe(before);
			await new Promise((r) => setTimeout(r, 100));
			expect(userChannel.events).toEqual([]);
			userChannel.close();
			// A good url replaces it; a TEXT message's attachment stays opaque (no rule to obey).
			const good = await op(botToken, {
				targets: [user],
				content_type: 12,
				related_mid: mid,
				attachment: '{"url":"https://cdn.test/dog.png"}',
			});
			expect(good.status).toBe(200);
			const [text] = (await op(botToken, { targets: [user], content: "text" })).body.msg_ids;
			expect((await op(botToken, { targets: [user], content_type: 12, related_mid: text, attachment })).status).toBe(200);
		},
	);

	it("an edit's content rules come after the rights: another user's REPLACE with a bad attachment is 403, not 400", async () => {
		const [mid] = (await op(botToken, { targets: [user], content_type: 1, attachment: '{"url":"https://cdn.test/cat.png"}' })).body.msg_ids;
		expect((await op(userTokenValue, { targets: [bot], content_type: 12, related_mid: mid, attachment: "<b>" })).status).toBe(403);
	});

	it("an online_only APPEND may not grow content past 10,000 characters either (400, nothing relayed)", async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "x".repeat(9_999) })).body.msg_ids;
		const userChannel = await connect(asUser(app, userTokenValue));
		const fits = await op(botToken, { targets: [user], content_type: 11, related_mid: mid, content: "y", online_only: true });
		expect(fits.status).toBe(200);
		const over = await op(botToken, { targets: [user], content_type: 11, related_mid: mid, content: "yz", online_only: true });
		expect(over.status).toBe(400);
		expect(over.body.message).toContain("10000");
		await new Promise((r) => setTimeout(r, 100));
		expect(userChannel.events.map((e) => e.data.content)).toEqual(["y"]);
		userChannel.close();
	});

	it("an APPEND retried with its transaction_id applies once", async () => {
		const [mid] = (await op(botToken, { targets: [user], content: "a" })).body.msg_ids;
		const body = { targets: [user], content_type: 11, related_mid: mid, content: "b", transaction_id: 4242 };
		expect((await op(botToken, body)).status).toBe(200);
		const again = await op(botToken, body);
		expect(again.status).toBe(200);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		const [message] = (await history(app, userTokenValue, { opposite_id: bot, limit: 1 })).body.data.messages;
		expect(message.content).toBe("ab");
	});

	it("online_only is accepted and stores nothing", async () => {
		const before = await count();
		const reply = await op(botToken, { targets: [user], content: "typing…", online_only: true });
		expect(reply.status).toBe(200);
		expect(reply.body.msg_ids).toEqual([0]);
		expect(await count()).toBe(before);
	});
});
