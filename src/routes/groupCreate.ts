import { z } from "zod";
import { requireUser } from "../auth/identity";
import { clock } from "../clock";
import { createGroup, findGroup } from "../db/groups";
import { existingUsers } from "../db/memo";
import { groupJson } from "../groups/access";
import { groupInfo, userList } from "../groups/schemas";
import { notFound } from "../http/envelope";
import { integerIn } from "../http/ids";
import { optionalText } from "../http/validate";
import { endpoint } from "./contract";

export const groupCreate = endpoint({
	methods: ["POST"],
	path: "/group/create",
	tag: "Groups",
	summary: "Create a group",
	description:
		"The caller (a user, or an admin with header `user_id`) becomes the owner; the users of `user_list` join at once. The body may be left out. `type` 0 and 1 make the same ordinary group (members join when the owner or an admin adds them); chatrooms (2) are not supported.",
	access: "token",
	bodyOptional: true,
	body: z.object({
		name: optionalText(100),
		description: optionalText(1000),
		avatar: optionalText(1000),
		user_list: userList.default([]),
		type: integerIn(0, 2, "0 private, 1 public: both make an ordinary group; 2 (a chatroom) is not supported.")
			.refine((t) => t !== 2, { message: "2 (a chatroom) is not supported; use 0 (private) or 1 (public)" })
			.meta({ not: { enum: [2] } })
			.optional(),
	}),
	data: groupInfo,
	errors: { 404: "A user of user_list does not exist." },
	handle: async ({ db, app, caller, body }) => {
		const owner = requireUser(caller).userId;
		const members = [owner, ...body.user_list.filter((u) => u !== owner)];
		const registered = await existingUsers(db, app.id, members);
		const missing = members.find((u) => !registered.has(u));
		if (missing !== undefined) throw notFound(`User ${missing} does not exist.`);
		const { type: _, ...fields } = body;
		const groupId = await createGroup(db, { appId: app.id, ...fields, ownerId: owner, members, nowMs: clock.now() });
		const group = await findGroup(db, app.id, groupId);
		if (!group) throw new Error("a group just created was not found");
		return { data: groupJson(group) };
	},
});
