import { z } from "zod";
import { redeliver } from "../apps/callbacks";
import { requireAdmin } from "../auth/identity";
import { CALLBACK_EVENTS, deadLetters } from "../db/callbacks";
import { badRequest } from "../http/envelope";
import { idOut } from "../http/ids";
import { pageCursor, pageQuery } from "../http/page";
import { endpoint } from "./contract";

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const MAX_REDELIVER_IDS = 1000;

/** The cursor is the position of the last entry returned: "<failed_at>/<row id>". */
const cursor = z
	.string()
	.regex(/^[0-9]{1,16}\/[0-9]{1,16}$/, { message: "must be a cursor returned by this endpoint" })
	.transform((c) => {
		const [failedAt = "0", id = "0"] = c.split("/");
		return { failedAt: Number(failedAt), id: Number(id) };
	});

export const appCallbacksFailed = endpoint({
	methods: ["GET"],
	path: "/app/callbacks/failed",
	tag: "App",
	summary: "Dead-lettered callbacks (admin)",
	description:
		"Callbacks that were not answered 2xx within `callback_max_attempts` attempts (or were owed while the app had no `callback_url`), newest first. Kept 30 days, or until redelivered.",
	access: "token",
	query: z.object({
		...pageQuery(cursor, "Entries", DEFAULT_LIMIT, MAX_LIMIT),
	}),
	data: z.array(
		z.object({
			webhook_id: z.string().meta({ description: "The x-webhook-id of its attempts." }),
			msg_id: idOut,
			type: z.enum(CALLBACK_EVENTS as [string, ...string[]]),
			attempts: z.int(),
			last_status: z.int().nullable().meta({ description: "The receiver's last HTTP status; null: no answer." }),
			last_error: z.string().nullable(),
			failed_at: z.int().meta({ description: "When it was dead-lettered (ms since the Unix epoch)." }),
		}),
	),
	extra: pageCursor,
	errors: { 403: "Not the app admin token." },
	handle: async ({ db, app, caller, query }) => {
		requireAdmin(caller);
		const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
		const after = query.cursor === "" || query.cursor === undefined ? null : query.cursor;
		const rows = await deadLetters(db, app.id, after, limit + 1);
		const page = rows.slice(0, limit);
		const last = page[page.length - 1];
		return {
			data: page.map((r) => ({
				webhook_id: r.webhookId,
				msg_id: r.msgId,
				type: r.event,
				attempts: r.attempts,
				last_status: r.lastStatus,
				last_error: r.lastError,
				failed_at: r.failedAt,
			})),
			extra: { cursor: rows.length > limit && last ? `${last.failedAt}/${last.id}` : "" },
		};
	},
});

export const appCallbacksRedeliver = endpoint({
	methods: ["POST"],
	path: "/app/callbacks/redeliver",
	tag: "App",
	summary: "Send dead-lettered callbacks again (admin)",
	description:
		"`webhook_ids` (from /app/callbacks/failed), or `all: true` for every one. Those callbacks go back to their conversations' queues with fresh attempts, in their original order; ids that are not dead-lettered are skipped. `queued` counts those queued.",
	access: "token",
	body: z.strictObject({
		webhook_ids: z
			.array(z.string().regex(/^[0-9a-f]{32}$/, { message: "must be webhook ids from /app/callbacks/failed" }))
			.max(MAX_REDELIVER_IDS)
			.default([])
			.meta({ description: `Up to ${MAX_REDELIVER_IDS} webhook ids from /app/callbacks/failed.` }),
		all: z
			.boolean({ error: "must be true or false" })
			.default(false)
			.meta({ description: "true: every dead-lettered callback of the app." }),
	}),
	data: z.object({ queued: z.int().min(0) }),
	errors: { 400: 'Neither "webhook_ids" (at least one) nor "all": true.', 403: "Not the app admin token." },
	handle: async ({ request, env, db, app, caller, body }) => {
		requireAdmin(caller);
		if (!body.all && body.webhook_ids.length === 0) {
			throw badRequest('Name the callbacks to send again: "webhook_ids" (at least one) or "all": true.');
		}
		const which = body.all ? { all: true as const } : { webhookIds: body.webhook_ids };
		return { data: { queued: await redeliver(env, db, app.id, which, request.requestId) } };
	},
});
