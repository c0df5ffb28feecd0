import { z } from "zod";
import { authenticate, type Caller } from "../auth/identity";
import { clock } from "../clock";
import { existingUsers } from "../db/memo";
import { database } from "../db/queries";
import { cachedReplay, rememberReplay, replayKey } from "../dedupe/replayCache";
import { readJsonObject } from "../http/body";
import { badRequest, conflict, forbidden, notFound, ok, unavailable } from "../http/envelope";
import { id, integerIn, peerId } from "../http/ids";
import type { Handler } from "../http/request";
import { codePointLength, parse } from "../http/validate";
import { contentProblem, MAX_CONTENT, MAX_FIELD } from "../messages/contentTypes";
import { sendToTargets } from "../messages/send";
import { dedupeWindowS } from "../settings";
import { sha256Hex } from "../sha256";

const MAX_TARGETS = 100;

const text = (max: number) =>
	z
		.string({ error: "must be a string" })
		.refine((s) => codePointLength(s) <= max, { message: `must be at most ${max} characters` })
		.default("");

const body = z.object({
	transaction_id: id.optional(),
	type: integerIn(1, 2).refine((t) => t === 1, { message: "must be 1: group messages (2) are not available yet" }),
	from_user_id: id.optional(),
	targets: z
		.array(id, { error: "must be an array of ids" })
		.min(1, { message: "must name at least one target" })
		.max(MAX_TARGETS, { message: `must name at most ${MAX_TARGETS} targets` })
		.refine((t) => new Set(t).size === t.length, { message: "must not name a target twice" }),
	content_type: integerIn(0, 12).refine((c) => c <= 7, {
		message: "must be 0-7: operations on an existing message (9-12) are not available yet",
	}),
	content: text(MAX_CONTENT),
	ext: text(MAX_FIELD),
	config: text(MAX_FIELD),
	attachment: text(MAX_FIELD),
	related_mid: peerId.optional(),
});

/** POST|PUT /message/send */
export const messageSend: Handler = async (request, env, ctx) => {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const input = parse(body, await readJsonObject(request), "body");
	const problem = contentProblem(input);
	if (problem) throw badRequest(`Field "${problem[0]}" ${problem[1]}.`);
	const sender = senderOf(caller, input.from_user_id);
	if (input.targets.includes(sender.id)) throw badRequest('Field "targets" must not name the sender: sending to oneself is not allowed.');

	// Validate every target before anything is written.
	const registered = await existingUsers(db, app.id, [sender.id, ...input.targets]);
	if (!registered.has(sender.id)) throw notFound(`Sender ${sender.id} does not exist.`);
	const missing = input.targets.find((t) => !registered.has(t));
	if (missing !== undefined) throw notFound(`Target user ${missing} does not exist.`);

	const message = {
		type: 1 as const,
		contentType: input.content_type,
		content: input.content,
		attachment: input.attachment,
		config: input.config,
		ext: input.ext,
		fromUid: sender.id,
		fromDeviceSn: sender.deviceSn,
		timestamp: clock.now(),
		isSystem: false,
	};
	const windowS = dedupeWindowS(env);
	let transaction = null;
	let cacheKey = "";
	if (input.transaction_id !== undefined) {
		const { timestamp: _, fromDeviceSn: __, ...sameRequest } = message;
		transaction = { id: input.transaction_id, bodyHash: await sha256Hex(JSON.stringify([sameRequest, input.targets])) };
		cacheKey = replayKey(app.id, sender.id, input.transaction_id);
		const cached = await cachedReplay(env.DEDUPE, cacheKey, request.requestId);
		if (cached && cached.hash !== transaction.bodyHash) throw conflict(usedForOther);
		if (cached) return ok(true, { msg_ids: cached.msg_ids }, { "idempotent-replayed": "true" });
	}

	const outcome = await sendToTargets(env, {
		appId: app.id,
		message,
		targets: input.targets,
		transaction,
		dedupeWindowMs: windowS * 1000,
		requestId: request.requestId,
	});
	switch (outcome.kind) {
		case "conflict":
			throw conflict(usedForOther);
		case "partial":
			throw unavailable(
				"Some targets could not be sent to; retry with the same transaction_id.",
				{ failed: outcome.failed },
				{ msg_ids: outcome.msgIds },
			);
		case "sent":
			if (transaction) {
				ctx.waitUntil(
					rememberReplay(env.DEDUPE, cacheKey, { hash: transaction.bodyHash, msg_ids: outcome.msgIds }, windowS, request.requestId),
				);
			}
			return ok(true, { msg_ids: outcome.msgIds }, outcome.replayed ? { "idempotent-replayed": "true" } : {});
	}
};

const usedForOther = "transaction_id was already used for a different request.";

/** Who sends (SPEC §5.1 sender rules). */
function senderOf(caller: Caller, fromUserId: number | undefined): { id: number; deviceSn: number } {
	if (caller.kind === "user") {
		if (fromUserId !== undefined && fromUserId !== caller.userId) {
			if (caller.viaAdmin) throw badRequest('Field "from_user_id" names a different user than header "user_id".');
			throw forbidden('Field "from_user_id" must be the user of the access-token.');
		}
		return { id: caller.userId, deviceSn: caller.deviceSn };
	}
	if (fromUserId === undefined) {
		throw badRequest('Field "from_user_id" (or header "user_id") is required when sending with the admin token.');
	}
	return { id: fromUserId, deviceSn: 0 };
}
