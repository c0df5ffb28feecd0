import { beforeAll, describe, expect, it } from "vitest";
import { admin, request } from "./client";

const run = Date.now().toString(36);
let owner: number;
let member: number;
let late: number;

beforeAll(async () => {
	const list = ["owner", "member", "late"].map((n) => ({ username: `group-${n}-${run}`, password: "group-password" }));
	[owner, member, late] = (await request("POST", "/user/register/batch", { headers: admin(), body: { list } })).body.data.map(
		(r: any) => r.user_id,
	);
});

const as = (userId: number) => ({ ...admin(), user_id: String(userId) });

describe("e2e: a group's life", () => {
	it("create, talk, invite late, kick, destroy — as clients see it", async () => {
		const created = await request("POST", "/group/create", { headers: as(owner), body: { name: "e2e", user_list: [String(member)] } });
		expect(created.status).toBe(200);
		const group = created.body.data.group_id;
		expect(created.body.data).toMatchObject({ owner_id: owner, count: 2 });

		const first = await request("POST", "/message/send", {
			headers: as(member),
			body: { type: "2", targets: [String(group)], content_type: 0, content: "first" },
		});
		expect(first.status).toBe(200);
		const invited = await request("POST", "/group/invite", { headers: as(owner), body: { group_id: group, user_list: [late] } });
		expect(invited.body.data).toEqual([{ user_id: late, result: "success", reason: "" }]);
		await request("POST", "/message/send", { headers: as(owner), body: { type: 2, targets: [group], content_type: 0, content: "second" } });

		const lateView = await request("GET", "/message/conversation", { headers: as(late), query: { opposite_id: group } });
		expect(lateView.body.data.messages.map((m: any) => m.content)).toEqual(["second"]);
		const unread = await request("GET", "/message/unread", { headers: as(member) });
		expect(unread.body.data[0]).toMatchObject({ conversation_id: { uid: group }, num: 1, type: 2 });

		await request("DELETE", "/group/kick", { headers: as(owner), body: { group_id: group, user_list: [member] } });
		const kickedSend = await request("POST", "/message/send", {
			headers: as(member),
			body: { type: 2, targets: [group], content_type: 0, content: "x" },
		});
		expect(kickedSend.status).toBe(403);
		expect((await request("DELETE", "/group/destroy", { headers: as(owner), query: { group_id: group } })).status).toBe(200);
		const afterwards = await request("GET", "/message/conversation", { headers: as(late), query: { opposite_id: group } });
		expect(afterwards.body.data.messages.map((m: any) => m.content)).toEqual(["second"]);
	});
});
