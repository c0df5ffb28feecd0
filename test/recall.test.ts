import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { allMessages, createApp, entryFor, history, recall, registerUser, send, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp({ recallWindowS: 120 });
});

afterEach(() => vi.restoreAllMocks());

async function pair() {
	const [alice, bob] = [await registerUser(app), await registerUser(app)];
	return { alice, bob, aliceToken: await userToken(app, alice), bobToken: await userToken(app, bob) };
}

describe("POST /message/recall", () => {
	it("the sender recalls within the window: a tombstone for everyone, and the unread count drops", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [m1] = (await send(app, aliceToken, { targets: [bob], content: "oops", ext: '{"x":1}', config: "c" })).body.msg_ids;
		await send(app, aliceToken, { targets: [bob], content: "fine" });
		expect((await entryFor(app, bobToken, alice)).num).toBe(2);

		const reply = await recall(app, aliceToken, bob, m1);
		expect(reply.status).toBe(200);
		expect(reply.body).toEqual({ code: 200, message: "", data: true });
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
		for (const [token, peer] of [
			[aliceToken, bob],
			[bobToken, alice],
		] as const) {
			const tomb = (await allMessages(app, token, peer)).find((m) => m.msg_id === m1);
			expect(tomb).toMatchObject({ recalled: true, content: "", attachment: "", config: "", ext: "" });
		}
	});

	it("after the app's recall window the sender gets 403 naming the window (the clock is injected)", async () => {
		const { bob, aliceToken } = await pair();
		const [m] = (await send(app, aliceToken, { targets: [bob], content: "late" })).body.msg_ids;
		const now = Date.now();
		vi.spyOn(clock, "now").mockReturnValue(now + 119_000);
		expect((await recall(app, aliceToken, bob, m)).status).toBe(200);
		const [m2] = (await send(app, aliceToken, { targets: [bob], content: "later" })).body.msg_ids;
		vi.spyOn(clock, "now").mockReturnValue(now + 119_000 + 121_000);
		const reply = await recall(app, aliceToken, bob, m2);
		expect(reply.status).toBe(403);
		expect(reply.body.message).toContain("120 s");
	});

	it("the recall window is a per-app setting", async () => {
		const strict = await createApp({ recallWindowS: 5 });
		const [a, b] = [await registerUser(strict), await registerUser(strict)];
		const aToken = await userToken(strict, a);
		const [m] = (await send(strict, aToken, { targets: [b], content: "x" })).body.msg_ids;
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 6_000);
		const reply = await recall(strict, aToken, b, m);
		expect(reply.status).toBe(403);
		expect(reply.body.message).toContain("5 s");
	});

	it("an app admin recalls any message at any time, naming either user of the conversation", async () => {
		const { alice, bob, aliceToken } = await pair();
		const [m1, m2] = [
			(await send(app, aliceToken, { targets: [bob], content: "one" })).body.msg_ids[0],
			(await send(app, aliceToken, { targets: [bob], content: "two" })).body.msg_ids[0],
		];
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 365 * 24 * 3600 * 1000);
		expect((await recall(app, undefined, alice, m1)).status).toBe(200);
		expect((await recall(app, undefined, bob, m2)).status).toBe(200);
		const carol = await registerUser(app);
		const wrong = await recall(app, undefined, carol, m1);
		expect(wrong.status).toBe(404);
	});

	it("the receiver may not recall (403); an unknown message is 404", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [m] = (await send(app, aliceToken, { targets: [bob], content: "mine" })).body.msg_ids;
		const reply = await recall(app, bobToken, alice, m);
		expect(reply.status).toBe(403);
		expect(reply.body.message).toBe("Only the sender or an admin may change this message.");
		expect((await recall(app, aliceToken, bob, 99999999)).status).toBe(404);
		expect((await recall(app, undefined, alice, 99999999)).status).toBe(404);
		expect((await history(app, bobToken, { opposite_id: alice })).body.data.messages[0].recalled).toBe(false);
	});

	it("recalling a recalled message is 200 and changes nothing", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [m] = (await send(app, aliceToken, { targets: [bob], content: "twice" })).body.msg_ids;
		await send(app, aliceToken, { targets: [bob], content: "keep" });
		expect((await recall(app, aliceToken, bob, m)).status).toBe(200);
		expect((await recall(app, aliceToken, bob, m)).status).toBe(200);
		expect((await recall(app, undefined, alice, m)).status).toBe(200);
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
	});

	it("a message the receiver had read does not lower their unread count", async () => {
		const { alice, bob, aliceToken, bobToken } = await pair();
		const [m1] = (await send(app, aliceToken, { targets: [bob], content: "read it" })).body.msg_ids;
		await send(app, bobToken, { targets: [alice], content: "reply (reads m1)" });
		await send(app, aliceToken, { targets: [bob], content: "unread" });
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
		await recall(app, aliceToken, bob, m1);
		expect((await entryFor(app, bobToken, alice)).num).toBe(1);
	});
});
