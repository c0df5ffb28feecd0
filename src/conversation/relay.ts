// online_only (docs/API.md "Real-time delivery"): a message or operation relayed to the
// recipients' open channels and nothing else — not stored, not counted, not
// called back. It runs in the conversation's object like its writes, so its
// events keep their place among the conversation's events; the rights are
// those of the stored kind, checked in ONE D1 read with who is online.
import { sql } from "drizzle-orm";
import { batchSql, type Database } from "../db/client";
import type { MessageRow, NewMessage } from "../db/messages";
import { messageRowOf, messageRowSql } from "../db/messages";
import { onlineOf, onlineUserIds } from "../db/presence";
import { codePointLength } from "../http/validate";
import { MAX_CONTENT } from "../limits";
import { APPEND, READ_ACK, RECALL, REPLACE } from "../protocol";
import { appendTooLong, attachmentProblem, isFileMessage, replacementAttachmentFits } from "../shapes/contentRules";
import { groupOf } from "./key";
import { audienceOf } from "./peer";
import { type Failure, failure, refusedField } from "./results";
import type { Push } from "./state";

export type RelayInput = {
	/** The message as it would be stored (its timestamp is taken here). */
	message: NewMessage;
	/** Edits and READ_ACK: the message they act on. */
	relatedMid: number;
	/** The sender keeps admin rights (admin token + from_user_id): may edit any message, send into any group. */
	admin: boolean;
	requestId: string;
};

export async function relay(db: Database, input: RelayInput, nowMs: number): Promise<{ answer: { ok: true } | Failure; push?: Push }> {
	const { message, relatedMid } = input;
	const { appId, conversationKey, fromUid, contentType } = message;
	if (contentType === RECALL) return { answer: failure(400, 'A recall cannot be "online_only": it is always stored.') };
	const where = audienceOf(conversationKey);
	const group = groupOf(conversationKey);
	const isOperation = contentType >= READ_ACK;
	const [online, member, related] = await batchSql(db, [
		// An operation reaches only those who can see the message it acts on.
		onlineOf(appId, where, isOperation ? { conversationKey, msgId: relatedMid } : undefined),
		group === null
			? sql`SELECT 1 AS member`
			: sql`SELECT EXISTS (SELECT 1 FROM group_members WHERE app_id = ${appId} AND group_id = ${group} AND user_id = ${fromUid})
				AND EXISTS (SELECT 1 FROM groups WHERE id = ${group} AND app_id = ${appId} AND destroyed = 0) AS member`,
		messageRowSql(appId, isOperation ? relatedMid : 0),
	]);
	if ((member?.results[0] as { member: number } | undefined)?.member !== 1 && !input.admin) {
		return { answer: failure(403, `User ${fromUid} is not a member of group ${group}.`) };
	}
	const recipients = onlineUserIds(online);
	if (!isOperation) {
		const relayed: MessageRow = { ...message, id: 0, timestamp: nowMs, recalled: false, recalledBy: null };
		return { answer: { ok: true }, push: { online: recipients, happenings: [{ kind: "message", message: relayed, onlineOnly: true }] } };
	}
	const target = messageRowOf(related);
	if (!target || target.conversationKey !== conversationKey) {
		return { answer: failure(404, `Message ${relatedMid} is not a message of this conversation.`) };
	}
	if (contentType === READ_ACK) {
		const happening = { kind: "read" as const, where, userId: fromUid, msgId: relatedMid, deviceSn: message.fromDeviceSn };
		return { answer: { ok: true }, push: { online: recipients, happenings: [happening] } };
	}
	if (target.recalled) return { answer: failure(409, `Message ${relatedMid} was recalled; it cannot be edited.`) };
	if (!input.admin && target.fromUid !== fromUid) return { answer: failure(403, "Only the sender or an admin may change this message.") };
	// The content rules of a new message of the original's type (docs/API.md, "Edits through send").
	if (contentType === APPEND) {
		if (message.content === "") return { answer: { ok: true } };
		if (codePointLength(target.content) + codePointLength(message.content) > MAX_CONTENT) {
			return { answer: refusedField(appendTooLong(relatedMid)) };
		}
		const happening = { kind: "append" as const, where, msgId: relatedMid, content: message.content, onlineOnly: true };
		return { answer: { ok: true }, push: { online: recipients, happenings: [happening] } };
	}
	if (contentType !== REPLACE) return { answer: failure(400, `Content type ${contentType} cannot be relayed.`) };
	if (isFileMessage(target.contentType) && !replacementAttachmentFits(message.attachment)) {
		return { answer: refusedField(attachmentProblem(target.contentType)) };
	}
	// REPLACE: the message as it would be, as REPLACE keeps a field sent as "".
	const keep = (now: string, sent: string) => (sent === "" ? now : sent);
	const replaced: MessageRow = {
		...target,
		content: keep(target.content, message.content),
		ext: keep(target.ext, message.ext),
		config: keep(target.config, message.config),
		attachment: keep(target.attachment, message.attachment),
	};
	return {
		answer: { ok: true },
		push: { online: recipients, happenings: [{ kind: "update", where, message: replaced, onlineOnly: true }] },
	};
}
