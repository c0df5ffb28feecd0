// How an existing bot integration calls the source API: the admin token plus
// from_user_id in the body, single-target sends reading msg_ids[0] at the top
// level, config/ext as JSON strings, related_mid 0 meaning none, and history
// polled with msg_id_start=0&limit=20 filtered by timestamp.
import { beforeAll, describe, expect, it } from "vitest";
import { admin, request } from "./client";

const run = Date.now().toString(36);
let bot: number;
let user: number;

beforeAll(async () => {
	const list = [
		{ username: `bot-${run}`, password: "bot-password" },
		{ username: `customer-${run}`, password: "customer-password" },
	];
	const reply = await request("POST", "/user/register/batch", { headers: admin(), body: { list } });
	expect(reply.status).toBe(200);
	[bot, user] = reply.body.data.map((row: any) => row.user_id);
});

describe("e2e: a bot written for the source API", () => {
	it("replies as itself with the admin token and reads msg_ids[0]", async () => {
		const config = '{"antispam_prompt":"","mention_list":[]}';
		const ext = '{"ai":{"stream":false,"role":"assistant"}}';
		const since = Date.now() - 1;
		const send = await request("POST", "/message/send", {
			headers: admin(),
			body: { from_user_id: bot, targets: [user], type: 1, content_type: 0, content: "Hi, how can I help?", config, ext, related_mid: 0 },
		});
		expect(send.status).toBe(200);
		expect(send.body.code).toBe(200);
		const msgId = send.body.msg_ids[0];
		expect(msgId).toBeGreaterThan(0);

		const poll = await request("GET", "/message/conversation", {
			headers: { ...admin(), user_id: String(user) },
			query: { opposite_id: bot, msg_id_start: 0, limit: 20 },
		});
		expect(poll.status).toBe(200);
		const fresh = poll.body.data.messages.filter((m: any) => m.timestamp >= since);
		expect(fresh).toHaveLength(1);
		expect(fresh[0]).toMatchObject({ msg_id: msgId, config, ext, content: "Hi, how can I help?", from_xid: { uid: bot } });
	});

	it("streams a reply: TEXT, then APPEND chunks, then a final REPLACE, read back as one message", async () => {
		const headers = admin();
		const base = { from_user_id: bot, targets: [user], type: 1 };
		const first = await request("POST", "/message/send", { headers, body: { ...base, content_type: 0, content: "Thinking" } });
		const mid = first.body.msg_ids[0];
		for (const chunk of [".", ".", "."]) {
			const reply = await request("POST", "/message/send", {
				headers,
				body: { ...base, content_type: 11, related_mid: mid, content: chunk },
			});
			expect(reply.body.msg_ids[0]).toBe(mid);
		}
		const done = await request("POST", "/message/send", {
			headers,
			body: { ...base, content_type: 12, related_mid: mid, content: "The answer is 42." },
		});
		expect(done.status).toBe(200);
		const poll = await request("GET", "/message/conversation", {
			headers: { ...admin(), user_id: String(user) },
			query: { opposite_id: bot, msg_id_start: 0, limit: 20 },
		});
		const mine = poll.body.data.messages.filter((m: any) => m.msg_id === mid);
		expect(mine).toEqual([expect.objectContaining({ content: "The answer is 42.", ctype: "TEXT" })]);
	});
});
