import { z } from "zod";
import { requireUser } from "../auth/identity";
import { conversationWith } from "../conversation/peer";
import { type HistoryPage, historyPage, type MessageRow, recordDelivered } from "../db/messages";
import { forbidden } from "../http/envelope";
import { idOut, integerIn, peerId } from "../http/ids";
import { MAX_ID } from "../limits";
import { type MessageStatus, messageJson, messageSchema } from "../shapes/message";
import { endpoint } from "./contract";

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

export const messageConversation = endpoint({
	methods: ["GET"],
	path: "/message/conversation",
	tag: "Messages",
	summary: "History of a conversation",
	description: `The caller's history with \`opposite_id\`, newest first. Page with \`next_msg_id\` as the next \`msg_id_start\`: every message comes exactly once. A group member sees history from when they joined; a removed member keeps what they saw up to removal. Recalled messages stay as tombstones. \`status\` is from the caller's view: what they received is READ up to their read position, else DELIVERED; what they sent one-to-one is READ once the peer read it, DELIVERED once the peer fetched it, else UNREAD.`,
	access: "token",
	query: z.object({
		opposite_id: peerId.meta({ description: "The peer user, the group, or 0 for notifications." }),
		msg_id_start: peerId.optional().meta({ description: "Start at this id (inclusive) and go older; 0 or absent: the newest." }),
		limit: integerIn(1, MAX_ID, `Messages per page: default ${DEFAULT_LIMIT}; larger than ${MAX_LIMIT} is clamped.`).optional(),
	}),
	data: z.object({
		messages: z.array(messageSchema),
		is_last: z.boolean(),
		next_msg_id: idOut.meta({ description: "The next older message's id, for msg_id_start; 0 when is_last." }),
	}),
	errors: { 403: "Not a member of the group.", 404: "No user or group opposite_id." },
	handle: async ({ db, app, caller, query }) => {
		const me = requireUser(caller);
		const named = await conversationWith(db, app.id, me.userId, query.opposite_id, "opposite_id");
		const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
		// One extra row tells whether this is the last page and where the next starts.
		const page = await historyPage(db, app.id, named.key, me.userId, query.opposite_id, query.msg_id_start ?? 0, limit + 1);
		// A group's history is for its members and former members (up to when they left).
		if (named.type === 2 && !page.hasSide) throw forbidden(`User ${me.userId} is not a member of group ${query.opposite_id}.`);
		const rows = page.rows.slice(0, limit);
		const next = page.rows[limit];
		// Returning a peer's message delivers it (docs/API.md); written only when the position moves, and
		// before answering, so the sender sees DELIVERED on their next read. Only a one-to-one
		// sender reads it (a group's own messages are DELIVERED; the system account reads nothing).
		const newestReceived = rows.find((row) => row.fromUid !== me.userId)?.id ?? 0;
		if (named.type === 1 && query.opposite_id !== 0 && newestReceived > page.myDelivered) {
			await recordDelivered(db, app.id, me.userId, named.key, newestReceived);
		}
		const status = statusFor(me.userId, page);
		return {
			data: {
				messages: rows.map((row) => messageJson(row, status(row))),
				is_last: next === undefined,
				next_msg_id: next?.id ?? 0,
			},
		};
	},
});

/** docs/API.md: a message's status as the caller sees it. */
function statusFor(me: number, { myRead, peerRead, peerDelivered }: HistoryPage) {
	return (row: MessageRow): MessageStatus => {
		if (row.fromUid !== me) return myRead >= row.id ? "READ" : "DELIVERED";
		if (row.type === 2) return "DELIVERED";
		return peerRead >= row.id ? "READ" : peerDelivered >= row.id ? "DELIVERED" : "UNREAD";
	};
}
