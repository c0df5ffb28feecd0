// A callback receiver inside the test pool: the drainer's network
// (src/callbacks/deliver.ts `transport`) is replaced once per file, and each
// test registers the answers of its own URL. Tests, the worker and its
// Durable Objects share one isolate, so the spy sees every delivery.
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { transport } from "../src/callbacks/deliver";
import { call, type TestApp } from "./support";

export type Received = { url: string; headers: Record<string, string>; raw: string; body: any; at: number };
type Answer = (r: Received, n: number) => Response | Promise<Response>;

const endpoints = new Map<string, { answer: Answer; received: Received[] }>();

/** A receiver at a fresh URL; `answer` decides each reply (default 200). Installed again if a test restored every mock. */
export function receiver(answer: Answer = () => new Response("ok")) {
	if (!vi.isMockFunction(transport.post)) {
		vi.spyOn(transport, "post").mockImplementation(async (url, init) => {
			const raw = String(init.body);
			const r: Received = {
				url,
				headers: Object.fromEntries(new Headers(init.headers).entries()),
				raw,
				body: JSON.parse(raw),
				at: Date.now(),
			};
			const at = endpoints.get(url);
			if (!at) return new Response("no receiver", { status: 404 });
			at.received.push(r);
			return at.answer(r, at.received.length);
		});
	}
	const url = `http://127.0.0.1:9/${crypto.randomUUID()}`;
	const state = { answer, received: [] as Received[] };
	endpoints.set(url, state);
	return {
		url,
		received: state.received,
		answerWith(next: Answer) {
			state.answer = next;
		},
		/** Waits until `n` callbacks have arrived. */
		async count(n: number, timeout = 10_000) {
			await vi.waitFor(
				() => {
					if (state.received.length < n) throw new Error(`${state.received.length} of ${n} callbacks arrived`);
				},
				{ timeout, interval: 20 },
			);
			return state.received;
		},
	};
}

export async function setSettings(app: TestApp, body: Record<string, unknown>) {
	const reply = await call("/app/settings", { app, body });
	if (reply.status !== 200) throw new Error(`settings failed: ${JSON.stringify(reply.body)}`);
	return reply.body.data;
}

/** The app's callback outbox rows (in DB), in commit order. */
export const outbox = async (appId: number) =>
	(await env.DB.prepare("SELECT * FROM callback_outbox WHERE app_id = ? ORDER BY id").bind(appId).all<Record<string, any>>()).results;

/** Waits until the app's outbox rows pass `check`; answers them. */
export const waitForRow = (appId: number, check: (rows: Record<string, any>[]) => boolean) =>
	vi.waitFor(
		async () => {
			const rows = await outbox(appId);
			if (!check(rows)) throw new Error(`outbox: ${JSON.stringify(rows.map((r) => [r.state, r.attempts]))}`);
			return rows;
		},
		{ timeout: 10_000, interval: 20 },
	);
