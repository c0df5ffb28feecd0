// User profiles (docs/API.md, "Profiles"): the source service's paths and
// shape, who sees what, and the rules on each text.
import { beforeAll, describe, expect, it } from "vitest";
import { call, createApp, registerUser, snapshot, type TestApp, userToken } from "./support";

let app: TestApp;
let ann: number;
let ben: number;
let annToken: string;
let benToken: string;

beforeAll(async () => {
	app = await createApp();
	[ann, ben] = [await registerUser(app, `ann-${crypto.randomUUID().slice(0, 6)}`), await registerUser(app)];
	[annToken, benToken] = [await userToken(app, ann), await userToken(app, ben)];
});

const profile = (token: string | undefined, query: Record<string, number> = {}, headers: Record<string, string> = {}) =>
	call("/user/profile", { app, token, query, headers });

describe("GET /user/profile", () => {
	it("answers the caller's own profile in the source service's shape, empty until set", async () => {
		const reply = await profile(annToken);
		expect(reply.status).toBe(200);
		expect(reply.body.data).toEqual({
			user_id: ann,
			username: expect.stringMatching(/^ann-/),
			nick_name: "",
			avatar: "",
			description: "",
			public_info: "",
			private_info: "",
			email: "",
			mobile: "",
		});
	});

	it("another user of the app sees the public profile, without private_info; admins see it all", async () => {
		expect(
			(
				await call("/user/profile", {
					app,
					token: annToken,
					body: { nick_name: "Ann", public_info: '{"team":"a"}', private_info: "secret" },
				})
			).status,
		).toBe(200);
		const seen = await profile(benToken, { user_id: ann });
		expect(seen.body.data).toMatchObject({ user_id: ann, nick_name: "Ann", public_info: '{"team":"a"}' });
		expect(seen.body.data).not.toHaveProperty("private_info");
		expect((await profile(undefined, { user_id: ann })).body.data.private_info).toBe("secret");
		expect((await profile(undefined, {}, { user_id: String(ann) })).body.data.private_info).toBe("secret");
		// The admin acting as Ben is Ben: no private_info of Ann's.
		expect((await profile(undefined, { user_id: ann }, { user_id: String(ben) })).body.data).not.toHaveProperty("private_info");
	});

	it("the admin without a user names one (400); an unknown id, a group or another app's user is 404", async () => {
		expect((await profile(undefined)).status).toBe(400);
		expect((await profile(annToken, { user_id: 987654321 })).status).toBe(404);
		const group = (await call("/group/create", { app, token: annToken, body: {} })).body.data.group_id;
		expect((await profile(annToken, { user_id: group })).status).toBe(404);
		const other = await createApp();
		const stranger = await registerUser(other);
		expect((await profile(annToken, { user_id: stranger })).status).toBe(404);
	});
});

describe("changing a profile", () => {
	it("POST and PUT /user/profile change any subset; a field left out keeps its value", async () => {
		const user = await registerUser(app);
		const token = await userToken(app, user);
		expect((await call("/user/profile", { app, token, body: { nick_name: "First", description: "d1" } })).body).toMatchObject({
			data: true,
		});
		expect((await call("/user/profile", { app, token, method: "PUT", body: { description: "d2" } })).status).toBe(200);
		expect((await profile(token)).body.data).toMatchObject({ nick_name: "First", description: "d2" });
		// An admin changes a user's with header user_id.
		expect((await call("/user/profile", { app, headers: { user_id: String(user) }, body: { nick_name: "By admin" } })).status).toBe(200);
		expect((await profile(token)).body.data.nick_name).toBe("By admin");
	});

	it("/user/nickname takes the source service's query parameter; /user/avatar an https URL", async () => {
		const user = await registerUser(app);
		const token = await userToken(app, user);
		expect((await call("/user/nickname", { app, token, method: "POST", query: { nick_name: "Nicky 🙂" } })).status).toBe(200);
		expect((await call("/user/avatar", { app, token, body: { avatar: "https://cdn.example.com/a.png" } })).status).toBe(200);
		expect((await profile(token)).body.data).toMatchObject({ nick_name: "Nicky 🙂", avatar: "https://cdn.example.com/a.png" });
		expect((await call("/user/avatar", { app, token, method: "PUT", body: { avatar: "" } })).status).toBe(200);
		expect((await profile(token)).body.data.avatar).toBe("");
	});

	it.each([
		["a nick name of 65 characters", "/user/profile", { nick_name: "n".repeat(65) }, "nick_name"],
		["a nick name with a newline", "/user/profile", { nick_name: "a\nb" }, "nick_name"],
		["a nick name with a right-to-left override", "/user/profile", { nick_name: "a\u202eb" }, "nick_name"],
		["a description of 513 characters", "/user/profile", { description: "d".repeat(513) }, "description"],
		["public_info of 4,097 characters", "/user/profile", { public_info: "p".repeat(4097) }, "public_info"],
		["private_info with NUL", "/user/profile", { private_info: "a\u0000" }, "private_info"],
		["a nick name that is a number", "/user/profile", { nick_name: 5 }, "nick_name"],
		["an http avatar", "/user/avatar", { avatar: "http://cdn.example.com/a.png" }, "avatar"],
		["a javascript: avatar", "/user/avatar", { avatar: "javascript:alert(1)" }, "avatar"],
		["an avatar that is not a URL", "/user/avatar", { avatar: "a.png" }, "avatar"],
	])("%s is 400 naming the field, and nothing changes", async (_, path, body, field) => {
		const before = await snapshot();
		const reply = await call(path, { app, token: annToken, body });
		expect(reply.status).toBe(400);
		expect(reply.body.message).toContain(`"${field}"`);
		expect(await snapshot()).toBe(before);
	});
});

describe("POST /user/profile/batch", () => {
	it("the admin changes several users; an unknown user fails only its row; a user token is 403", async () => {
		const [a, b] = [await registerUser(app), await registerUser(app)];
		const reply = await call("/user/profile/batch", {
			app,
			body: {
				list: [
					{ user_id: a, nick_name: "A" },
					{ user_id: 987654321, nick_name: "nobody" },
					{ user_id: b, description: "B's" },
				],
			},
		});
		expect(reply.body.data).toEqual([
			{ user_id: a, success: true, reason: "" },
			{ user_id: 987654321, success: false, reason: "user does not exist" },
			{ user_id: b, success: true, reason: "" },
		]);
		expect((await profile(undefined, { user_id: a })).body.data.nick_name).toBe("A");
		expect((await profile(undefined, { user_id: b })).body.data.description).toBe("B's");
		expect((await call("/user/profile/batch", { app, token: annToken, body: { list: [{ user_id: ann, nick_name: "x" }] } })).status).toBe(
			403,
		);
	});
});

describe("nick names where members are listed", () => {
	it("/group/member_list shows each member's nick name as display_name", async () => {
		const [owner, member] = [await registerUser(app), await registerUser(app)];
		await call("/user/profile", { app, headers: { user_id: String(member) }, body: { nick_name: "Member One" } });
		const group = (await call("/group/create", { app, headers: { user_id: String(owner) }, body: { user_list: [member] } })).body.data
			.group_id;
		const list = await call("/group/member_list", { app, query: { group_id: group } });
		expect(list.body.data.map((m: { user_id: number; display_name: string }) => [m.user_id, m.display_name])).toEqual([
			[owner, ""],
			[member, "Member One"],
		]);
	});
});
