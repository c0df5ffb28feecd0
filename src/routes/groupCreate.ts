import { z } from "zod";
import { authenticate, requireUser } from "../auth/identity";
import { clock } from "../clock";
import { createGroup, findGroup } from "../db/groups";
import { existingUsers } from "../db/memo";
import { database } from "../db/queries";
import { groupJson } from "../groups/access";
import { userList } from "../groups/schemas";
import { readJsonObject } from "../http/body";
import { notFound, ok } from "../http/envelope";
import type { Handler } from "../http/request";
import { codePointLength, parse } from "../http/validate";

const text = (max: number) =>
	z
		.string({ error: "must be a string" })
		.refine((s) => codePointLength(s) <= max, { message: `must be at most ${max} characters` })
		.default("");

const body = z.object({ name: text(100), description: text(1000), avatar: text(1000), user_list: userList.default([]) });

/** POST /group/create — the caller becomes the owner; user_list join at once. */
export const groupCreate: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const owner = requireUser(caller).userId;
	const input = parse(body, await readJsonObject(request), "body");
	const members = [owner, ...input.user_list.filter((u) => u !== owner)];
	const registered = await existingUsers(db, app.id, members);
	const missing = members.find((u) => !registered.has(u));
	if (missing !== undefined) throw notFound(`User ${missing} does not exist.`);
	const groupId = await createGroup(db, { appId: app.id, ...input, ownerId: owner, members, nowMs: clock.now() });
	const group = await findGroup(db, app.id, groupId);
	return ok(group && groupJson(group));
};
