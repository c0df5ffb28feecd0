import { beforeAll, describe, expect, it } from "vitest";
import { allMessages, createApp, deleteConversation, entryFor, history, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

describe("DELETE /message/conversation", () => {
	it("hides it from the caller's list, unread 0, history before it gone; the peer sees no change", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		for (let i = 0; i < 3; i++) await send(app, aliceToken, { targets: [bob], content: `old ${i}` });
		expect((await entryFor(app, bobToken, alice)).num).toBe(3);

		const reply = await deleteConversation(app, bobToken, alice);
		expect(reply.status).toBe(200);
		expect(await entryFor(app, bobToken, alice)).toBeUndefined();
		expect((await history(app, bobToken, { opposite_id: alice })).body.data.messages).toEqual([]);
		// Alice is not affected.
		expect((await allMessages(app, aliceToken, bob)).map((m) => m.content)).toEqual(["old 2", "old 1", "old 0"]);
		expect(await entryFor(app, aliceToken, bob)).toMatchObject({ num: 0 });
	});

	it("a later message brings it back with only the new messages", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		await send(app, aliceToken, { targets: [bob], content: "before" });
		await deleteConversation(app, bobToken, alice);
		const after = await send(app, aliceToken, { targets: [bob], content: "after" });
		expect(await entryFor(app, bobToken, alice)).toMatchObject({ num: 1, last_msg_id: after.body.msg_ids[0] });
		expect((await allMessages(app, bobToken, alice)).map((m) => m.content)).toEqual(["after"]);
	});

	it("deleting again, or a conversation that never existed, is 404", async () => {
		const [alice, bob, carol] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		await send(app, aliceToken, { targets: [bob], content: "x" });
		expect((await deleteConversation(app, bobToken, alice)).status).toBe(200);
		expect((await deleteConversation(app, bobToken, alice)).status).toBe(404);
		expect((await deleteConversation(app, bobToken, carol)).status).toBe(404);
		expect((await deleteConversation(app, bobToken, 99999999)).status).toBe(404);
	});

	it("sending into a conversation you deleted brings it back for you too", async () => {
		const [alice, bob] = [await registerUser(app), await registerUser(app)];
		const [aliceToken, bobToken] = [await userToken(app, alice), await userToken(app, bob)];
		await send(app, aliceToken, { targets: [bob], content: "x" });
		await deleteConversation(app, bobToken, alice);
		await send(app, bobToken, { targets: [alice], content: "back" });
		expect(await entryFor(app, bobToken, alice)).toMatchObject({ num: 0 });
		expect((await allMessages(app, bobToken, alice)).map((m) => m.content)).toEqual(["back"]);
	});
});
