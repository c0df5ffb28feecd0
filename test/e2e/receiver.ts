// A callback receiver over real HTTP (Node's http server on a free port), as
// an app's backend runs one: each path has its own answer, and every request
// is recorded with its raw body and headers.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Arrival = { path: string; headers: IncomingMessage["headers"]; raw: string; body: any; at: number };
/** Answers one arrival: a status, or "hang" (never answer; the socket is dropped after `hangMs`). */
export type Answer = (a: Arrival, nth: number) => number | "hang" | Promise<number | "hang">;

export async function startReceiver(hangMs = 15_000) {
	const paths = new Map<string, { answer: Answer; arrivals: Arrival[] }>();
	const held = new Set<ServerResponse>();
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on("data", (c) => chunks.push(c));
		request.on("end", async () => {
			const raw = Buffer.concat(chunks).toString("utf8");
			const arrival: Arrival = { path: request.url ?? "", headers: request.headers, raw, body: JSON.parse(raw || "null"), at: Date.now() };
			const at = paths.get(arrival.path);
			if (!at) return void response.writeHead(404).end();
			at.arrivals.push(arrival);
			const answer = await at.answer(arrival, at.arrivals.length);
			if (answer === "hang") {
				held.add(response);
				setTimeout(() => {
					held.delete(response);
					response.destroy();
				}, hangMs).unref();
				return;
			}
			response.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "no");
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	let n = 0;
	return {
		port,
		/** A fresh path with its own answer (default 200). */
		endpoint(answer: Answer = () => 200) {
			const path = `/hook-${++n}`;
			const state = { answer, arrivals: [] as Arrival[] };
			paths.set(path, state);
			return {
				url: `http://127.0.0.1:${port}${path}`,
				arrivals: state.arrivals,
				answerWith(next: Answer) {
					state.answer = next;
				},
				async count(k: number, timeoutMs = 20_000) {
					const deadline = Date.now() + timeoutMs;
					while (state.arrivals.length < k) {
						if (Date.now() > deadline) throw new Error(`${state.arrivals.length} of ${k} callbacks arrived at ${path}`);
						await new Promise((r) => setTimeout(r, 25));
					}
					return state.arrivals;
				},
			};
		},
		async close() {
			for (const r of held) r.destroy();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
