// A message as clients receive it (SPEC §5).
import type { MessageRow } from "../db/queries";
import { ctypeName } from "./contentTypes";

export type MessageStatus = "UNREAD" | "DELIVERED" | "READ";

export function messageJson(row: MessageRow, status: MessageStatus) {
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
