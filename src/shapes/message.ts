// A message as clients receive it (docs/API.md): its schema (for /openapi.json)
// and the function that shapes a stored row into it.
import { z } from "zod";
import type { MessageRow } from "../db/messages";
import { idOut } from "../http/ids";
import { CONTENT_TYPES, ctypeName } from "../protocol";

export const MESSAGE_STATUSES = ["UNREAD", "DELIVERED", "READ"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

const xid = (description: string) => z.object({ uid: idOut, device_sn: idOut }).meta({ description });

export const messageSchema = z
	.object({
		msg_id: idOut,
		type: z.enum(["CHAT", "GROUPCHAT"]).meta({ description: "CHAT: one-to-one; GROUPCHAT: a group." }),
		ctype: z.enum([...CONTENT_TYPES, "UNKNOWN"]).meta({ description: "The content type's name." }),
		content: z.string(),
		attachment: z.string().meta({ description: 'Opaque (clients put JSON here), returned byte for byte; "" means absent.' }),
		config: z.string(),
		ext: z.string(),
		timestamp: z.int().meta({ description: "Milliseconds since the Unix epoch." }),
		status: z.enum(MESSAGE_STATUSES).meta({ description: "From the caller's view (docs/API.md)." }),
		from_xid: xid("The sender (uid 0: the system account) and their device."),
		to_xid: xid("The receiving user, or the group."),
		recalled: z.boolean().meta({ description: 'A tombstone: content, attachment, config and ext are "".' }),
		is_system: z.boolean().meta({ description: "Sent with /message/notify." }),
	})
	.meta({ id: "Message" });

export function messageJson(row: MessageRow, status: MessageStatus): z.input<typeof messageSchema> {
	const hidden = row.recalled; // a recalled message is a tombstone: its payload is gone
	return {
		msg_id: row.id,
		type: row.type === 2 ? "GROUPCHAT" : "CHAT",
		ctype: ctypeName(row.contentType),
		content: hidden ? "" : row.content,
		attachment: hidden ? "" : row.attachment,
		config: hidden ? "" : row.config,
		ext: hidden ? "" : row.ext,
		timestamp: row.timestamp,
		status,
		from_xid: { uid: row.fromUid, device_sn: row.fromDeviceSn },
		to_xid: { uid: row.toUid, device_sn: 0 },
		recalled: row.recalled,
		is_system: row.isSystem,
	};
}
