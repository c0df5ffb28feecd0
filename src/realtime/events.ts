// What travels over a realtime channel (SPEC §6.3). A conversation's object
// pushes viewer-independent happenings to the objects of the users online in
// it; each user's object turns them into that user's events (the peer as
// `conversation_id`, the status from that user's view).
import type { MessageRow } from "../db/messages";
import { type MessageStatus, messageJson } from "../shapes/message";

/** Something that happened in one conversation, the same for every viewer. */
export type Happening = {
	kind: "message";
	/** The stored message (or, for an online_only one, the message as it would have been, with id 0). */
	message: MessageRow;
	onlineOnly: boolean;
};

/** One server → client frame. */
export type RealtimeEvent = { event: "message"; data: ReturnType<typeof messageJson> & { conversation_id: number; online_only: boolean } };

/** The other side of the message's conversation, seen by `viewer`: the group, or the other user. */
function conversationIdFor(message: MessageRow, viewer: number): number {
	if (message.type === 2) return message.toUid;
	return message.fromUid === viewer ? message.toUid : message.fromUid;
}

/** SPEC §5.3 status from the viewer's view, at the moment it is pushed. */
function statusFor(message: MessageRow, viewer: number): MessageStatus {
	if (message.fromUid !== viewer || message.type === 2) return "DELIVERED";
	return "UNREAD";
}

export function eventFor(happening: Happening, viewer: number): RealtimeEvent {
	const { message } = happening;
	return {
		event: "message",
		data: {
			...messageJson(message, statusFor(message, viewer)),
			conversation_id: conversationIdFor(message, viewer),
			online_only: happening.onlineOnly,
		},
	};
}
