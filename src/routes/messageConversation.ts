import { z } from "zod";
import { authenticate, requireUser } from "../auth/identity";
import { conversationWith } from "../conversation/peer";
import { database, type HistoryPage, historyPage, type MessageRow } from "../db/queries";
import { forbidden, ok } from "../http/envelope";
import { integerIn, MAX_ID, peerId } from "../http/ids";
import { type Handler, queryOf } from "../http/request";
import { parse } from "../http/validate";
import { type MessageStatus, messageJson } from "../messages/format";

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

const query = z.object({
	opposite_id: peerId,
	msg_id_start: peerId.optional(),
	limit: integerIn(1, MAX_ID).optional(),
});

/** GET /message/conversation — the caller's history with a peer, newest first. */
export const messageConversation: Handler = async (request, env) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const me = requireUser(caller);
	const input = parse(query, queryOf(request), "query");
	const named = await conversationWith(db, app.id, me.userId, input.opposite_id, "opposite_id");
	const limit = Math.min(input.limit ?? DEFAULT_LIMIT, MAX_LIMIT);

	// One extra row tells whether this is the last page and where the next starts.
	const page = await historyPage(db, app.id, named.key, me.userId, input.opposite_id, input.msg_id_start ?? 0, limit + 1);
	// A group's history is for its members and former members (up to when they left).
	if (named.type === 2 && !page.hasSide) throw forbidden(`User ${me.userId} is not a member of group ${input.opposite_id}.`);

	const rows = page.rows.slice(0, limit);
	const next = page.rows[limit];
	const status = statusFor(me.userId, page);
	return ok({
		messages: rows.map((row) => messageJson(row, status(row))),
		is_last: next === undefined,
		next_msg_id: next?.id ?? 0,
	});
};

/** SPEC §5.3: a message's status as the caller sees it. */
function statusFor(me: number, { myRead, peerRead, peerDelivered }: HistoryPage) {
	return (row: MessageRow): MessageStatus => {
		if (row.fromUid !== me) return myRead >= row.id ? "READ" : "DELIVERED";
		if (row.type === 2) return "DELIVERED";
		return peerRead >= row.id ? "READ" : peerDelivered >= row.id ? "DELIVERED" : "UNREAD";
	};
}
