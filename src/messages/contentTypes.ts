// Content types of SPEC §5 and the rules on their fields.
import { codePointLength } from "../http/validate";
import { ctypeName } from "../protocol";

const NEEDS_CONTENT = new Set([0, 5, 6, 7]);
const NEEDS_ATTACHMENT = new Set([1, 2, 3, 4]);

/** The first broken rule for a message's fields, as [field, reason]; null if none. */
export function contentProblem(m: { content_type: number; content: string; attachment: string }): [string, string] | null {
	if (NEEDS_CONTENT.has(m.content_type) && codePointLength(m.content) === 0) {
		return ["content", `is required for ${ctypeName(m.content_type)} messages`];
	}
	if (NEEDS_ATTACHMENT.has(m.content_type) && !hasHttpUrl(m.attachment)) {
		return ["attachment", `must be a JSON object string with an http(s) "url" for ${ctypeName(m.content_type)} messages`];
	}
	return null;
}

function hasHttpUrl(attachment: string): boolean {
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
