import { beforeAll, describe, expect, it } from "vitest";
import { admin, request } from "./client";

const run = Date.now().toString(36);
let alice: number;
let bob: number;
let aliceHeaders: Record<string, string>;
let bobHeaders: Record<string, string>;

beforeAll(async () => {
	const list = [
		{ username: `state-a-${run}`, password: "alice-password" },
		{ username: `state-b-${run}`, password: "bob-password" },
	];
	[alice, bob] = (await request("POST", "/user/register/batch", { headers: admin(), body: { list } })).body.data.map((r: any) => r.user_id);
	const token = async (name: string, password: string) =>
		(await request("POST", "/token/user", { headers: { app_id: "1" }, body: { name, password } })).body.data.token;
	aliceHeaders = { app_id: "1", "access-token": await token(`state-a-${run}`, "alice-password") };
	bobHeaders = { app_id: "1", "access-token": await token(`state-b-${run}`, "bob-password") };
});

const entry = async (headers: Record<string, string>, peer: number) =>
	(await request("GET", "/message/unread", { headers })).body.data.find((e: any) => e.conversation_id.uid === peer);

describe("e2e: unread list, ack, recall, delete, notify", () => {
	it("counts unread, acks, recalls and deletes as a client sees it", async () => {
		const ids: number[] = [];
		for (const content of ["one", "two", "three"]) {
			const reply = await request("POST", "/message/send", {
				headers: aliceHeaders,
				body: { type: 1, targets: [bob], content_type: 0, content },
			});
			ids.push(reply.body.msg_ids[0]);
		}
		expect(await entry(bobHeaders, alice)).toMatchObject({ num: 3, type: 1, last_msg_id: ids[2] });

		const acked = await request("GET", "/message/ack", {
			headers: bobHeaders,
			query: { conversation_id: String(alice), msg_id: String(ids[0]) },
		});
		expect(acked.status).toBe(200);
		expect((await entry(bobHeaders, alice)).num).toBe(2);

		const recalled = await request("POST", "/message/recall", { headers: aliceHeaders, body: { conversation_id: bob, msg_id: ids[2] } });
		expect(recalled.status).toBe(200);
		expect((await entry(bobHeaders, alice)).num).toBe(1);
		const page = await request("GET", "/message/conversation", { headers: aliceHeaders, query: { opposite_id: bob } });
		expect(page.body.data.messages.map((m: any) => [m.content, m.recalled, m.status])).toEqual([
			["", true, "UNREAD"],
			["two", false, "UNREAD"],
			["one", false, "READ"],
		]);

		const deleted = await request("DELETE", "/message/conversation", { headers: bobHeaders, query: { conversation_id: alice } });
		expect(deleted.status).toBe(200);
		expect(await entry(bobHeaders, alice)).toBeUndefined();
		expect((await request("DELETE", "/message/conversation", { headers: bobHeaders, query: { conversation_id: alice } })).status).toBe(404);
	});

	it("delivers a system notification to peer 0", async () => {
		const reply = await request("POST", "/message/notify", {
			headers: admin(),
			body: { type: 1, targets: [alice], content_type: 0, content: "maintenance at 2am" },
		});
		expect(reply.status).toBe(200);
		expect(await entry(aliceHeaders, 0)).toMatchObject({ num: 1, last_msg_id: reply.body.msg_ids[0] });
	});
});
