import { z } from "zod";
import { id, idOut, int64Key, integerIn, peerId } from "../http/ids";
import { optionalText } from "../http/validate";
import { MAX_CONTENT, MAX_FIELD, MAX_TARGETS } from "../limits";
import { handleSend } from "../messages/sendRequest";
import { type Context, endpoint } from "./contract";

/** The body of /message/send and /message/notify (docs/API.md). */
export const sendBody = z.object({
	transaction_id: int64Key(
		"Your request id (int64; 0 means none): a repeat within the dedupe window (24 h) gets the first answer, not a second message.",
	).optional(),
	type: integerIn(1, 2, "1: to users; 2: to groups.").transform((t) => t as 1 | 2),
	from_user_id: id.optional().meta({ description: "The sender, when sending with the admin token (or header user_id)." }),
	targets: z
		.array(id, { error: "must be an array of ids" })
		.min(1, { message: "must name at least one target" })
		.max(MAX_TARGETS, { message: `must name at most ${MAX_TARGETS} targets` })
		.refine((t) => new Set(t).size === t.length, { message: "must not name a target twice" })
		.meta({ description: "User ids (type 1) or group ids (type 2), each at most once; one message per target.", uniqueItems: true }),
	content_type: integerIn(
		0,
		12,
		"0 TEXT, 1 IMAGE, 2 AUDIO, 3 VIDEO, 4 FILE, 5 LOCATION, 6 COMMAND, 7 FORWARD; operations 9 READ_ACK, 10 RECALL, 11 APPEND, 12 REPLACE.",
	)
		.refine((c) => c !== 8, { message: "must be 0-7 (a message) or 9-12 (an operation)" })
		.meta({ not: { enum: [8, "8"] } }),
	content: optionalText(MAX_CONTENT, "Required for TEXT, LOCATION, COMMAND and FORWARD."),
	ext: optionalText(MAX_FIELD, "Opaque, stored and returned byte for byte."),
	config: optionalText(MAX_FIELD, "Opaque, stored and returned byte for byte."),
	attachment: optionalText(MAX_FIELD, 'For IMAGE, AUDIO, VIDEO and FILE: a JSON object string with an http(s) "url".'),
	related_mid: peerId.optional().meta({ description: "Operations (content_type 9-12): the message they act on." }),
	online_only: z
		.boolean({ error: "must be true or false" })
		.optional()
		.meta({ description: "Relay to connected devices only: nothing is stored or counted; msg_ids holds 0." }),
});

export const sendRules = `
- A user token sends as its user; an admin names the sender (\`from_user_id\` or header \`user_id\`).
- type 1: every target must be a registered user other than the sender (404 names it). type 2: a group the sender belongs to (403), unless an admin sends with \`from_user_id\`.
- Every target is checked before anything is written: one bad target, and nothing is sent.
- Operations (content_type 9-12) name exactly one target and a \`related_mid\` of that conversation. APPEND and REPLACE: the original sender or an admin; history shows the final text.
- With \`transaction_id\`, a repeat gets the first answer and header \`idempotent-replayed: true\`; the same id with another body is 409.
- A dependency failure after validation is 503 with \`data.failed\` (the targets not sent) and \`msg_ids\` 0 for them: retry with the same \`transaction_id\`.`;

export const sentData = {
	data: z.literal(true),
	extra: { msg_ids: z.array(idOut).meta({ description: "One id per target, in target order (0: not sent)." }) },
};

export const sendErrors = {
	404: "The sender, a target or related_mid does not exist.",
	409: "transaction_id was used for another request; or the message was recalled.",
	429: "The app's send_rate_per_min is used up for this sender: retry after Retry-After seconds.",
	503: "A dependency failed; retry with the same transaction_id.",
};

/** Runs a send or notify and shapes its answer. */
export async function answerSend(input: Context<"token"> & { body: z.output<typeof sendBody> }, kind: "send" | "notify") {
	const { request, ...rest } = input;
	const sent = await handleSend({ ...rest, requestId: request.requestId }, input.body, kind);
	const headers: Record<string, string> = sent.replayed ? { "idempotent-replayed": "true" } : {};
	return { data: true as const, extra: { msg_ids: sent.msgIds }, headers };
}

export const messageSend = endpoint({
	methods: ["POST", "PUT"],
	path: "/message/send",
	tag: "Messages",
	summary: "Send a message, or an operation on one",
	description: `Messages (content_type 0-7) and operations on them (9-12).${sendRules}`,
	access: "token",
	body: sendBody,
	...sentData,
	errors: sendErrors,
	handle: (input) => answerSend(input, "send"),
});
