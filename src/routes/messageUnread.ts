import { z } from "zod";
import { requireUser } from "../auth/identity";
import { unreadList } from "../db/conversationState";
import { idOut } from "../http/ids";
import { pageCursor, pageQuery } from "../http/page";
import { endpoint } from "./contract";

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

export const messageUnread = endpoint({
	methods: ["GET"],
	path: "/message/unread",
	tag: "Messages",
	summary: "The caller's conversation list with unread counts",
	description:
		"Most recent activity first. Conversations with 0 unread are listed; deleted ones are not. `num` counts the messages newer than the caller's read position and clear point, not sent by the caller, not recalled (groups: sent while a member).",
	access: "token",
	query: z.object({
		...pageQuery(cursor, "Entries", DEFAULT_LIMIT, MAX_LIMIT),
	}),
	data: z.array(
		z.object({
			conversation_id: z
				.object({ uid: idOut, device_sn: idOut })
				.meta({ description: "uid: the peer user or the group (0: notifications)." }),
			num: z.int().min(0).meta({ description: "Unread messages." }),
			type: z.union([z.literal(1), z.literal(2)]).meta({ description: "1: one-to-one; 2: a group." }),
			last_msg_id: idOut,
			last_timestamp: z.int(),
		}),
	),
	extra: pageCursor,
	handle: async ({ db, app, caller, query }) => {
		const me = requireUser(caller);
		const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
		// One extra entry tells whether there is a next page.
		const entries = await unreadList(db, app.id, me.userId, query.cursor || null, limit + 1);
		const page = entries.slice(0, limit);
		const last = page[page.length - 1];
		return {
			data: page.map((e) => ({
				conversation_id: { uid: e.peerId, device_sn: 0 },
				num: e.unreadCount,
				type: e.type as 1 | 2,
				last_msg_id: e.lastMsgId,
				last_timestamp: e.lastTimestamp,
			})),
			extra: { cursor: entries.length > limit && last ? `${last.lastMsgId}/${last.conversationKey}` : "" },
		};
	},
});
