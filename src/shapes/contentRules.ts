// The rules on a message's fields by content type (docs/API.md), for new messages and edits alike.
import { codePointLength } from "../http/validate";
import { MAX_CONTENT } from "../limits";
import { ctypeName, MEDIA_CONTENT_TYPES } from "../protocol";

const NEEDS_CONTENT = new Set([0, 5, 6, 7]);
const NEEDS_ATTACHMENT = new Set<number>(MEDIA_CONTENT_TYPES);

/** The first broken rule for a message's fields, as [field, reason]; null if none. */
export function contentProblem(m: { content_type: number; content: string; attachment: string }): [string, string] | null {
	if (NEEDS_CONTENT.has(m.content_type) && codePointLength(m.content) === 0) {
		return ["content", `is required for ${ctypeName(m.content_type)} messages`];
	}
	if (NEEDS_ATTACHMENT.has(m.content_type) && !hasHttpUrl(m.attachment)) return attachmentProblem(m.content_type);
	return null;
}

/** The refusal of an attachment without an http(s) url on a message of `contentType` (a file). */
export const attachmentProblem = (contentType: number): [string, string] => [
	"attachment",
	`must be a JSON object string with an http(s) "url" for ${ctypeName(contentType)} messages`,
];

/** Whether a message of `contentType` is a file (its attachment needs an http(s) url). */
export const isFileMessage = (contentType: number): boolean => NEEDS_ATTACHMENT.has(contentType);

/** The refusal of an APPEND that would grow message `msgId` past the content limit. */
export const appendTooLong = (msgId: number): [string, string] => [
	"content",
	`would make message ${msgId} longer than ${MAX_CONTENT} characters`,
];

/**
 * Whether a REPLACE's attachment may stand on any message (docs/API.md,
 * "Edits through send"): "" keeps the old one; anything else must be what a
 * new file message needs, since the edited message may be one.
 */
export const replacementAttachmentFits = (attachment: string): boolean => attachment === "" || hasHttpUrl(attachment);

export function hasHttpUrl(attachment: string): boolean {
	let parsed: unknown;
	try {
		parsed = JSON.parse(attachment);
	} catch {
		return false;
	}
	if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return false;
	const url = (parsed as { url?: unknown }).url;
	if (typeof url !== "string") return false;
	try {
		const { protocol } = new URL(url);
		return protocol === "http:" || protocol === "https:";
	} catch {
		return false;
	}
}
