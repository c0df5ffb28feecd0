// POST /message/send and POST /message/notify share one body and one flow
// (docs/API.md): who sends, what is validated before anything is
// written, and transaction_id. The body's schema lives with the send
// endpoint's contract (routes/messageSend.ts); this flow takes its output.
import type { Caller } from "../auth/identity";
import type { BookmarkSink } from "../conversation/key";
import { USED_FOR_OTHER } from "../conversation/transactions";
import type { AppRecord } from "../db/apps";
import type { Database } from "../db/client";
import { groupsForSend } from "../db/groups";
import { accountsById } from "../db/memo";
import { idempotency, rememberSent, replayFromCache, type Sent } from "../dedupe/replay";
import { ApiError, badRequest, conflict, forbidden, notFound, unavailable } from "../http/envelope";
import { OPERATIONS } from "../protocol";
import { attemptSend } from "../rateLimits/limits";
import { dedupeWindowS } from "../settings";
import { contentProblem } from "../shapes/contentRules";
import { outgoing, sendToTargets } from "./fanOut";
import { runOperation } from "./operations";
import { relayToTargets } from "./relay";

/** A send or notify request, validated. */
export type SendFields = {
	/** Exact decimal digits of an int64 (absent: no dedupe). */
	transaction_id?: string;
	type: 1 | 2;
	from_user_id?: number;
	targets: number[];
	content_type: number;
	content: string;
	ext: string;
	config: string;
	attachment: string;
	related_mid?: number;
	online_only?: boolean;
};

export type Sender = { id: number; deviceSn: number; adminRights: boolean };

export type SendContext = {
	env: Env;
	ctx: ExecutionContext;
	db: Database;
	app: AppRecord;
	caller: Caller;
	requestId: string;
	session: BookmarkSink;
};

export async function handleSend(
	{ env, ctx, db, app, caller, requestId, session }: SendContext,
	input: SendFields,
	kind: "send" | "notify",
): Promise<Sent> {
	const sender = kind === "notify" ? notifier(caller, input.from_user_id) : senderOf(caller, input.from_user_id);
	const isOperation = OPERATIONS.has(input.content_type);
	// Only new messages count (docs/API.md, "Rate limits"): a bot's streamed reply of many APPENDs
	// must not lose its final REPLACE. Counted before anything is read or written; free without a limit.
	if (!isOperation) await attemptSend(env, app.id, sender.id, app.sendRatePerMin, requestId);
	if (isOperation && kind === "notify") throw badRequest('Field "content_type" 9-12 (operations) go through /message/send.');
	if (!isOperation) {
		const problem = contentProblem(input);
		if (problem) throw badRequest(`Field "${problem[0]}" ${problem[1]}.`);
	}
	// Validate every target before anything is written: the sender and every target in one lookup.
	if (input.type === 1 && input.targets.includes(sender.id)) {
		throw badRequest('Field "targets" must not name the sender: sending to oneself is not allowed.');
	}
	const found = await accountsById(db, app.id, sender.id === 0 ? input.targets : [sender.id, ...input.targets]);
	const senderAccount = found.get(sender.id);
	if (sender.id !== 0 && (senderAccount?.kind !== "user" || senderAccount.standing === "deleted"))
		throw notFound(`Sender ${sender.id} does not exist.`);
	if (senderAccount?.standing === "disabled") throw forbidden(`User ${sender.id} is disabled.`);
	// A deleted user is no longer a target (their conversations stay readable); a disabled one still is.
	const wanted = input.type === 1 ? "user" : "group";
	const missing = input.targets.find((t) => found.get(t)?.kind !== wanted || found.get(t)?.standing === "deleted");
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

	// Relayed to the recipients' open channels only: nothing is stored, counted or called back.
	if (input.online_only) {
		const relayed = await relayToTargets(env, { appId: app.id, sender, input, isSystem: kind === "notify", requestId });
		if (!relayed.ok) throw ApiError.from(relayed);
		return { msgIds: input.targets.map(() => 0), replayed: false };
	}

	const { transaction_id, online_only: _, ...sameRequest } = input;
	const windowS = dedupeWindowS(env);
	const t = await idempotency(app.id, sender.id, transaction_id, [kind, sender.id, sameRequest], windowS, requestId);
	const replay = await replayFromCache(env.DEDUPE, t);
	if (replay) return replay;

	if (isOperation) {
		const outcome = await runOperation(env, { app, sender, operation: input, transaction: t, requestId, session });
		if (!outcome.ok) throw ApiError.from(outcome);
		return rememberSent(env.DEDUPE, ctx, t, { msgIds: [outcome.msgId], replayed: outcome.replayed });
	}

	const outcome = await sendToTargets(env, {
		appId: app.id,
		senderMustBeMember: !sender.adminRights,
		message: outgoing(input, sender, kind === "notify"),
		targets: input.targets,
		transaction: t && { id: t.transactionId, bodyHash: t.hash },
		dedupeWindowMs: windowS * 1000,
		requestId,
		session,
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
			return rememberSent(env.DEDUPE, ctx, t, { msgIds: outcome.msgIds, replayed: outcome.replayed });
	}
}

/** Who sends a message (docs/API.md sender rules). */
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

/** Who sends a notification (docs/API.md): admins only; the system account 0 unless named. */
function notifier(caller: Caller, fromUserId: number | undefined): Sender {
	if (caller.kind !== "admin") throw forbidden("Notifications need the app admin token (without a user_id header).");
	return { id: fromUserId ?? 0, deviceSn: 0, adminRights: true };
}
