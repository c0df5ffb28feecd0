import { z } from "zod";
import { authenticate, requireUser } from "../auth/identity";
import { unreadList } from "../db/conversationState";
import { database } from "../db/queries";
import { ok } from "../http/envelope";
import { integerIn, MAX_ID } from "../http/ids";
import { type Handler, queryOf } from "../http/request";
import { parse } from "../http/validate";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

/** The cursor is the position of the last entry returned: "<last_msg_id>/<conversation key>". */
const cursor = z
	.string()
	.regex(/^(0|[1-9][0-9]{0,15})\/(p:[0-9]{1,16}:[0-9]{1,16}|g:[0-9]{1,16})$/, { message: "must be a cursor returned by this endpoint" })
	.transform((c) => {
		const [lastMsgId = "0", conversationKey = ""] = c.split("/");
		return { lastMsgId: Number(lastMsgId), conversationKey };
	});

const query = z.object({ limit: integerIn(1, MAX_ID).optional(), cursor: z.union([z.literal(""), cursor]).optional() });

/** GET /message/unread — the caller's conversations, most recent activity first, with unread counts. */
export const messageUnread: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const me = requireUser(caller);
	const input = parse(query, queryOf(request), "query");
	const limit = Math.min(input.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
	const after = input.cursor || null;
	// One extra entry tells whether there is a next page.
	const entries = await unreadList(db, app.id, me.userId, after, limit + 1);
	const page = entries.slice(0, limit);
	const last = page[page.length - 1];
	return ok(
		page.map((e) => ({
			conversation_id: { uid: e.peerId, device_sn: 0 },
			num: e.unreadCount,
			type: e.type,
			last_msg_id: e.lastMsgId,
			last_timestamp: e.lastTimestamp,
		})),
		{ cursor: entries.length > limit && last ? `${last.lastMsgId}/${last.conversationKey}` : "" },
	);
};
