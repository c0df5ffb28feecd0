// Profiles and moderation over real HTTP (docs/API.md "Profiles",
// "Moderation"), every 200 held against the source service's documented
// shape (test/e2e/sourceShapes.ts): a bot sets its profile as the source's bot
// connector does, a user reads it, the admin disables, enables and deletes.
import { describe, expect, it } from "vitest";
import { admin, request, shapesChecked } from "./client";

const run = Date.now().toString(36);

async function user(name: string) {
	const made = await request("POST", "/user/register/v2", {
		headers: admin(),
		body: { username: `${name}-${run}`, password: "secret-pw" },
	});
	expect(made.status).toBe(200);
	const id = made.body.data.user_id as number;
	const login = await request("POST", "/token/user", { headers: { app_id: "1" }, body: { name: `${name}-${run}`, password: "secret-pw" } });
	return { id, name: `${name}-${run}`, headers: { app_id: "1", "access-token": login.body.data.token as string } };
}

describe("e2e: profiles and moderation", () => {
	it("a bot sets its nick name, avatar and profile; a user reads the public part; the admin changes several at once", async () => {
		const before = shapesChecked.count;
		const [bot, ann] = [await user("profile-bot"), await user("profile-ann")];
		expect((await request("POST", "/user/nickname", { headers: bot.headers, query: { nick_name: "Helper" } })).status).toBe(200);
		expect(
			(await request("PUT", "/user/avatar", { headers: bot.headers, body: { avatar: "https://cdn.example.com/bot.png" } })).status,
		).toBe(200);
		expect(
			(await request("POST", "/user/profile", { headers: bot.headers, body: { description: "I answer", private_info: "only mine" } }))
				.status,
		).toBe(200);
		const own = await request("GET", "/user/profile", { headers: bot.headers });
		expect(own.body.data).toMatchObject({ nick_name: "Helper", avatar: "https://cdn.example.com/bot.png", private_info: "only mine" });
		const seen = await request("GET", "/user/profile", { headers: ann.headers, query: { user_id: bot.id } });
		expect(seen.body.data).toMatchObject({ user_id: bot.id, nick_name: "Helper", description: "I answer" });
		expect(seen.body.data).not.toHaveProperty("private_info");
		const batch = await request("PUT", "/user/profile/batch", {
			headers: admin(),
			body: {
				list: [
					{ user_id: ann.id, nick_name: "Ann" },
					{ user_id: 987_654_321, nick_name: "Nobody" },
				],
			},
		});
		expect(batch.body.data.map((r: { success: boolean }) => r.success)).toEqual([true, false]);
		expect(shapesChecked.count - before).toBe(6);
	});

	it("the admin disables a user (their token stops), enables them, and deletes them; online status answers", async () => {
		const ann = await user("mod-ann");
		const status = await request("GET", "/user/online_status", { headers: ann.headers });
		expect(status.body.data).toEqual({ online: false });
		expect((await request("PUT", "/user/disable", { headers: admin(), body: { list: [ann.id] } })).status).toBe(200);
		expect((await request("GET", "/message/unread", { headers: ann.headers })).status).toBe(401);
		expect((await request("PUT", "/user/enable", { headers: admin(), body: { list: [ann.id] } })).status).toBe(200);
		expect((await request("GET", "/message/unread", { headers: ann.headers })).status).toBe(200);
		expect((await request("DELETE", "/user/delete", { headers: ann.headers, body: { password: "secret-pw" } })).status).toBe(200);
		expect((await request("GET", "/message/unread", { headers: ann.headers })).status).toBe(401);
		const again = await request("POST", "/token/user", { headers: { app_id: "1" }, body: { name: ann.name, password: "secret-pw" } });
		expect(again.status).toBe(401);
	});
});
