// docs/API.md, rate limits rate limits: failed logins per account, sends per sender.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clock } from "../src/clock";
import { call, createApp, registerUser, send, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

afterEach(() => vi.restoreAllMocks());

/** A user whose name and password the test knows. */
async function account() {
	const name = `login-${crypto.randomUUID().slice(0, 8)}`;
	const id = await registerUser(app, name, "right-password");
	return { name, id };
}

const byName = (name: string, password: string) => call("/token/user", { app, token: null, body: { name, password } });
const byId = (userId: number, password: string) => call("/token/id", { app, token: null, body: { user_id: userId, password } });

function expectTooMany(reply: { status: number; headers: Headers; body: { code: number; message: string } }) {
	expect(reply.status).toBe(429);
	expect(reply.body.code).toBe(429);
	const wait = Number(reply.headers.get("retry-after"));
	expect(wait).toBeGreaterThanOrEqual(1);
	expect(wait).toBeLessThanOrEqual(60);
}

describe("failed logins are limited per account", () => {
	it("after 10 failed attempts within a minute, the account answers 429 + Retry-After, the right password included, until the minute passes", async () => {
		const { name, id } = await account();
		for (let i = 0; i < 10; i++) expect((await byName(name, `wrong-${i}`)).status).toBe(401);
		expectTooMany(await byName(name, "right-password"));
		// The account, not the way it is named: /token/id is refused too.
		expectTooMany(await byId(id, "right-password"));
		// Another account is not affected.
		const other = await account();
		expect((await byName(other.name, "right-password")).status).toBe(200);
		// A minute later the right password works again.
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 61_000);
		expect((await byName(name, "right-password")).status).toBe(200);
	});

	it("a right password is not a failure: 9 failures, 5 logins, 1 failure, then the 11th attempt is refused", async () => {
		const { name } = await account();
		for (let i = 0; i < 9; i++) expect((await byName(name, "wrong")).status).toBe(401);
		for (let i = 0; i < 5; i++) expect((await byName(name, "right-password")).status).toBe(200);
		expect((await byName(name, "wrong")).status).toBe(401);
		expectTooMany(await byName(name, "right-password"));
	});

	it("30 concurrent guesses: at most 10 reach the password check, the rest are 429", async () => {
		const { id } = await account();
		const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => byId(id, `guess-${i}`)));
		const statuses = replies.map((r) => r.status);
		expect(statuses.filter((s) => s === 401)).toHaveLength(10);
		expect(statuses.filter((s) => s === 429)).toHaveLength(20);
	});

	it("an unknown user name is limited the same way (no answer tells accounts apart)", async () => {
		const name = `nobody-${crypto.randomUUID().slice(0, 8)}`;
		for (let i = 0; i < 10; i++) expect((await byName(name, "guess")).status).toBe(401);
		expectTooMany(await byName(name, "guess"));
	});
});

describe("sends are limited per sender when the app sets send_rate_per_min", () => {
	it("beyond send_rate_per_min within a minute: 429 + Retry-After and nothing written; other senders unaffected; a minute later it sends", async () => {
		const limited = await createApp();
		const [alice, bob, carol] = [await registerUser(limited), await registerUser(limited), await registerUser(limited)];
		expect((await call("/app/settings", { app: limited, body: { send_rate_per_min: 3 } })).status).toBe(200);
		const [aliceToken, carolToken] = [await userToken(limited, alice), await userToken(limited, carol)];
		for (let i = 0; i < 3; i++) expect((await send(limited, aliceToken, { targets: [bob], content: `ok ${i}` })).status).toBe(200);
		const before = await snapshot();
		expectTooMany(await send(limited, aliceToken, { targets: [bob], content: "one too many" }));
		expectTooMany(await send(limited, aliceToken, { targets: [bob], content_type: 1, attachment: '{"url":"https://x.test/a.png"}' }));
		expect(await snapshot()).toBe(before);
		expect((await send(limited, carolToken, { targets: [bob], content: "another sender" })).status).toBe(200);
		vi.spyOn(clock, "now").mockReturnValue(Date.now() + 61_000);
		expect((await send(limited, aliceToken, { targets: [bob], content: "a minute later" })).status).toBe(200);
	});

	it("operations do not count: a bot's streamed reply (read receipt, first chunk, four APPENDs, final REPLACE) under a limit of 6 lands whole", async () => {
		const limited = await createApp();
		const [bot, user] = [await registerUser(limited), await registerUser(limited)];
		expect((await call("/app/settings", { app: limited, body: { send_rate_per_min: 6 } })).status).toBe(200);
		const [botToken, userTokenOf] = [await userToken(limited, bot), await userToken(limited, user)];
		const [question] = (await send(limited, userTokenOf, { targets: [bot], content: "question?" })).body.msg_ids;
		// Five new messages use five of the six; the reply's first chunk the sixth; its operations none.
		for (let i = 0; i < 5; i++) expect((await send(limited, botToken, { targets: [user], content: `earlier ${i}` })).status).toBe(200);
		expect((await send(limited, botToken, { targets: [user], content_type: 9, related_mid: question })).status).toBe(200);
		const first = await send(limited, botToken, { targets: [user], content: "The" });
		expect(first.status).toBe(200);
		const [answer] = first.body.msg_ids;
		for (const chunk of [" answer", " is", " forty", " two"]) {
			expect((await send(limited, botToken, { targets: [user], content_type: 11, related_mid: answer, content: chunk })).status).toBe(200);
		}
		const final = await send(limited, botToken, { targets: [user], content_type: 12, related_mid: answer, content: "The answer is 42." });
		expect(final.status).toBe(200);
		const shown = await call("/message/conversation", { app: limited, token: userTokenOf, query: { opposite_id: bot, limit: 1 } });
		expect(shown.body.data.messages[0]).toMatchObject({ msg_id: answer, content: "The answer is 42." });
		// The budget itself still holds for new messages: the seventh is refused.
		expectTooMany(await send(limited, botToken, { targets: [user], content: "one too many" }));
	});

	it("notify is limited per its sender (the system account unless named)", async () => {
		const limited = await createApp();
		const bob = await registerUser(limited);
		expect((await call("/app/settings", { app: limited, body: { send_rate_per_min: 2 } })).status).toBe(200);
		const notify = () => call("/message/notify", { app: limited, body: { type: 1, targets: [bob], content_type: 0, content: "note" } });
		expect([(await notify()).status, (await notify()).status]).toEqual([200, 200]);
		expectTooMany(await notify());
	});

	it("without send_rate_per_min there is no limit", async () => {
		const open = await createApp();
		const [alice, bob] = [await registerUser(open), await registerUser(open)];
		const token = await userToken(open, alice);
		const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => send(open, token, { targets: [bob], content: `free ${i}` })));
		expect(replies.every((r) => r.status === 200)).toBe(true);
	});
});
