// What travels over a realtime channel (docs/API.md "Real-time delivery"). A conversation's object
// pushes viewer-independent happenings to the objects of the users online in
// it; each user's object turns them into that user's events (the peer as
// `conversation_id`, the status from that user's view).
import type { MessageRow } from "../db/messages";
import type { Audience } from "../db/presence";
import { type MessageStatus, messageJson } from "../shapes/message";

/** Something that happened in one conversation (`where`: its pair of users, or its group), the same for every viewer. */
export type Happening =
	/** A new message (online_only: relayed, never stored; its msg_id is 0). */
	| { kind: "message"; message: MessageRow; onlineOnly: boolean }
	/** An APPEND: `content` is the chunk added. */
	| { kind: "append"; where: Audience; msgId: number; content: string; onlineOnly: boolean }
	/** A message after a REPLACE or a recall (a tombstone). */
	| { kind: "update"; where: Audience; message: MessageRow; onlineOnly: boolean }
	/** A member's read position moved. */
	| { kind: "read"; where: Audience; userId: number; msgId: number; deviceSn: number }
	/** The user deleted the conversation (sent to that user's own channels only). */
	| { kind: "conversation_deleted"; where: Audience };

type MessageData = ReturnType<typeof messageJson> & { conversation_id: number; online_only: boolean };

/** One server → client frame. */
export type RealtimeEvent =
	| { event: "message"; data: MessageData }
	| { event: "append"; data: { conversation_id: number; msg_id: number; content: string; online_only: boolean } }
	| { event: "update"; data: { conversation_id: number; message: ReturnType<typeof messageJson> } }
	| { event: "read"; data: { conversation_id: number; user_id: number; msg_id: number; device_sn: number } }
	| { event: "conversation_deleted"; data: { conversation_id: number } }
	| { event: "resync"; data: { reason: string } };

/** The conversation's other side, seen by `viewer`: the group, or the other user of the pair. */
function conversationIdOf(where: Audience, viewer: number): number {
	if ("groupId" in where) return where.groupId;
	return where.users.find((u) => u !== viewer) ?? viewer;
}

const whereOf = (message: MessageRow): Audience =>
	message.type === 2 ? { groupId: message.toUid } : { users: [message.fromUid, message.toUid] };

/** docs/API.md status from the viewer's view, at the moment it is pushed (received: DELIVERED; own 1:1: UNREAD). */
function statusFor(message: MessageRow, viewer: number): MessageStatus {
	return message.fromUid !== viewer || message.type === 2 ? "DELIVERED" : "UNREAD";
}

export function eventFor(happening: Happening, viewer: number): RealtimeEvent {
	switch (happening.kind) {
		case "message": {
			const { message } = happening;
			return {
				event: "message",
				data: {
					...messageJson(message, statusFor(message, viewer)),
					conversation_id: conversationIdOf(whereOf(message), viewer),
					online_only: happening.onlineOnly,
				},
			};
		}
		case "append":
			return {
				event: "append",
				data: {
					conversation_id: conversationIdOf(happening.where, viewer),
					msg_id: happening.msgId,
					content: happening.content,
					online_only: happening.onlineOnly,
				},
			};
		case "update":
			return {
				event: "update",
				data: {
					conversation_id: conversationIdOf(happening.where, viewer),
					message: messageJson(happening.message, statusFor(happening.message, viewer)),
				},
			};
		case "read":
			return {
				event: "read",
				data: {
					conversation_id: conversationIdOf(happening.where, viewer),
					user_id: happening.userId,
					msg_id: happening.msgId,
					device_sn: happening.deviceSn,
				},
			};
		case "conversation_deleted":
			return { event: "conversation_deleted", data: { conversation_id: conversationIdOf(happening.where, viewer) } };
	}
}
