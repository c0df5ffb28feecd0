import { z } from "zod";
import { authenticate } from "../auth/identity";
import { clock } from "../clock";
import { conversationObject, groupKey } from "../conversation/key";
import { conversationWith, partiesOf } from "../conversation/peer";
import { findMessageFacts } from "../db/conversationState";
import { database } from "../db/queries";
import { readJsonObject } from "../http/body";
import { ApiError, notFound, ok } from "../http/envelope";
import { id, peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { parse } from "../http/validate";

const body = z.object({ conversation_id: peerId, msg_id: id });

/**
 * POST|PUT /message/recall — the sender within the app's recall window, or an
 * app admin at any time. The admin (no user_id header) names the message's
 * conversation by either of its users.
 */
export const messageRecall: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const input = parse(body, await readJsonObject(request), "body");
	let conversationKey: string;
	if (caller.kind === "user") {
		({ key: conversationKey } = await conversationWith(db, app.id, caller.userId, input.conversation_id, "conversation_id"));
	} else {
		// The app admin names the message's conversation by either of its users (or its group);
		// a group's admin, by that group.
		const facts = await findMessageFacts(db, app.id, input.msg_id);
		const named = facts ? partiesOf(facts.conversationKey) : [];
		const allowed = caller.kind === "admin" || facts?.conversationKey === groupKey(caller.groupId);
		if (!facts || !named.includes(input.conversation_id) || !allowed) {
			throw notFound(`Message ${input.msg_id} is not a message of conversation ${input.conversation_id}.`);
		}
		conversationKey = facts.conversationKey;
	}
	const result = await conversationObject(env, app.id, conversationKey).recall({
		appId: app.id,
		conversationKey,
		msgId: input.msg_id,
		permission: {
			admin: caller.kind !== "user",
			userId: caller.kind === "user" ? caller.userId : 0,
			notBefore: clock.now() - app.recallWindowS * 1000,
		},
		recallWindowS: app.recallWindowS,
		requestId: request.requestId,
	});
	if (!result.ok) throw ApiError.from(result);
	return ok(true);
};
