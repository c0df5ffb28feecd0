// POST /message/send and POST /message/notify share one body and one flow
// (SPEC §5.1, §5.1b, §5.2): who sends, what is validated before anything is
// written, and transaction_id.
import { z } from "zod";
import { authenticate, type Caller } from "../auth/identity";
import { clock } from "../clock";
import { USED_FOR_OTHER } from "../conversation/transactions";
import { groupsForSend } from "../db/groups";
import { accountKinds } from "../db/memo";
import { database } from "../db/queries";
import { idempotency, replayFromCache, sentResponse } from "../dedupe/replay";
import { readJsonObject } from "../http/body";
import { ApiError, badRequest, conflict, forbidden, notFound, unavailable } from "../http/envelope";
import { id, integerIn, peerId } from "../http/ids";
import type { ApiRequest } from "../http/request";
import { codePointLength, parse } from "../http/validate";
import { dedupeWindowS } from "../settings";
import { contentProblem, MAX_CONTENT, MAX_FIELD } from "./contentTypes";
import { sendToTargets } from "./fanOut";
import { OPERATIONS, runOperation } from "./operations";

const MAX_TARGETS = 100;

const text = (max: number) =>
	z
		.string({ error: "must be a string" })
		.refine((s) => codePointLength(s) <= max, { message: `must be at most ${max} characters` })
		.default("");

const body = z.object({
	transaction_id: id.optional(),
	type: integerIn(1, 2).transform((t) => t as 1 | 2),
	from_user_id: id.optional(),
	targets: z
		.array(id, { error: "must be an array of ids" })
		.min(1, { message: "must name at least one target" })
		.max(MAX_TARGETS, { message: `must name at most ${MAX_TARGETS} targets` })
		.refine((t) => new Set(t).size === t.length, { message: "must not name a target twice" }),
	content_type: integerIn(0, 12).refine((c) => c !== 8, { message: "must be 0-7 (a message) or 9-12 (an operation)" }),
	content: text(MAX_CONTENT),
	ext: text(MAX_FIELD),
	config: text(MAX_FIELD),
	attachment: text(MAX_FIELD),
	related_mid: peerId.optional(),
	online_only: z.boolean({ error: "must be true or false" }).optional(),
});

export type SendBody = z.output<typeof body>;
export type Sender = { id: number; deviceSn: number; adminRights: boolean };

export async function handleSend(request: ApiRequest, env: Env, ctx: ExecutionContext, kind: "send" | "notify"): Promise<Response> {
	const db = database(env.DB);
	const { app, caller } = await authenticate(request, env, db);
	const input = parse(body, await readJsonObject(request), "body");
	const sender = kind === "notify" ? notifier(caller, input.from_user_id) : senderOf(caller, input.from_user_id);
	const isOperation = OPERATIONS.has(input.content_type);
	if (isOperation && kind === "notify") throw badRequest('Field "content_type" 9-12 (operations) go through /message/send.');
	if (!isOperation) {
		const problem = contentProblem(input);
		if (problem) throw badRequest(`Field "${problem[0]}" ${problem[1]}.`);
	}
	// Validate every target before anything is written: the sender and every target in one lookup.
	if (input.type === 1 && input.targets.includes(sender.id)) {
		throw badRequest('Field "targets" must not name the sender: sending to oneself is not allowed.');
	}
	const kinds = await accountKinds(db, app.id, sender.id === 0 ? input.targets : [sender.id, ...input.targets]);
	if (sender.id !== 0 && kinds.get(sender.id) !== "user") throw notFound(`Sender ${sender.id} does not exist.`);
	const wanted = input.type === 1 ? "user" : "group";
	const missing = input.targets.find((t) => kinds.get(t) !== wanted);
	if (missing !== undefined) throw notFound(`Target ${wanted} ${missing} does not exist.`);
	// One group is checked by its object (not destroyed, sender a member) before it writes anything;
	// several are checked here first, so that one refusal sends nothing.
	if (input.type === 2 && input.targets.length > 1) {
		const found = await groupsForSend(db, app.id, input.targets, sender.id);
		for (const groupId of input.targets) {
			const group = found.get(groupId);
			if (!group) throw notFound(`Target group ${groupId} does not exist.`);
			if (group.destroyed) throw forbidden(`Group ${groupId} was destroyed; it takes no new messages.`);
			if (!group.member && !sender.adminRights) throw forbidden(`User ${sender.id} is not a member of group ${groupId}.`);
		}
	}

	// Relayed to connected devices only: nothing is stored (no live delivery yet).
	if (input.online_only)
		return sentResponse(
			env.DEDUPE,
			ctx,
			null,
			input.targets.map(() => 0),
			false,
		);

	const { transaction_id, online_only: _, ...sameRequest } = input;
	const windowS = dedupeWindowS(env);
	const t = await idempotency(app.id, sender.id, transaction_id, [kind, sender.id, sameRequest], windowS, request.requestId);
	const replay = await replayFromCache(env.DEDUPE, t);
	if (replay) return replay;

	if (isOperation) {
		const outcome = await runOperation(env, { app, sender, input, transaction: t, requestId: request.requestId });
		if (!outcome.ok) throw ApiError.from(outcome);
		return sentResponse(env.DEDUPE, ctx, t, [outcome.msgId], outcome.replayed);
	}

	const outcome = await sendToTargets(env, {
		appId: app.id,
		senderMustBeMember: !sender.adminRights,
		message: {
			type: input.type,
			contentType: input.content_type,
			content: input.content,
			attachment: input.attachment,
			config: input.config,
			ext: input.ext,
			fromUid: sender.id,
			fromDeviceSn: sender.deviceSn,
			timestamp: clock.now(),
			isSystem: kind === "notify",
		},
		targets: input.targets,
		transaction: t && { id: t.transactionId, bodyHash: t.hash },
		dedupeWindowMs: windowS * 1000,
		requestId: request.requestId,
	});
	switch (outcome.kind) {
		case "conflict":
			throw conflict(USED_FOR_OTHER);
		case "rejected":
			throw new ApiError(outcome.status, outcome.message);
		case "partial":
			throw unavailable(
				"Some targets could not be sent to; retry with the same transaction_id.",
				{ failed: outcome.failed },
				{ msg_ids: outcome.msgIds },
			);
		case "sent":
			return sentResponse(env.DEDUPE, ctx, t, outcome.msgIds, outcome.replayed);
	}
}

/** Who sends a message (SPEC §5.1 sender rules). */
function senderOf(caller: Caller, fromUserId: number | undefined): Sender {
	if (caller.kind === "user") {
		if (fromUserId !== undefined && fromUserId !== caller.userId) {
			if (caller.viaAdmin) throw badRequest('Field "from_user_id" names a different user than header "user_id".');
			throw forbidden('Field "from_user_id" must be the user of the access-token.');
		}
		return { id: caller.userId, deviceSn: caller.deviceSn, adminRights: false };
	}
	if (fromUserId === undefined) {
		throw badRequest('Field "from_user_id" (or header "user_id") is required when sending with the admin token.');
	}
	return { id: fromUserId, deviceSn: 0, adminRights: true };
}

/** Who sends a notification (SPEC §5.2): admins only; the system account 0 unless named. */
function notifier(caller: Caller, fromUserId: number | undefined): Sender {
	if (caller.kind !== "admin") throw forbidden("Notifications need the app admin token (without a user_id header).");
	return { id: fromUserId ?? 0, deviceSn: 0, adminRights: true };
}
