// One attempt at one callback, and what it means for the next (docs/API.md "Message callbacks"):
// a 2xx within 10 s delivers it; anything else is retried after 1 s, 2 s,
// 4 s, … (with jitter, at most 10 min) until the app's max attempts, then
// it is dead-lettered.
import { clock } from "../clock";
import type { Destination, DueCallback, Settlement } from "../db/callbacks";
import { CALLBACK_MAX_BACKOFF_MS, CALLBACK_TIMEOUT_MS } from "../limits";
import { callbackSecretProblem, callbackUrlProblem, callbackUrlRefusal } from "./destination";
import { callbackBody, hmacSignature } from "./payload";

/** The network. Tests replace `post` (vi.spyOn) to play a receiver. */
export const transport = {
	post: (url: string, init: RequestInit): Promise<Response> => fetch(url, init),
};

/** How long to wait after failed attempt number `attempt` (1, 2, …): 1 s doubling, ±20 % jitter, capped. */
export function backoffMs(attempt: number, random: number = Math.random()): number {
	const base = Math.min(1000 * 2 ** Math.min(attempt - 1, 30), CALLBACK_MAX_BACKOFF_MS);
	return Math.min(Math.round(base * (0.8 + 0.4 * random)), CALLBACK_MAX_BACKOFF_MS);
}

/**
 * One attempt. `allowPrivate`: the deployment allows plain-http and private
 * callback URLs. The URL and secret are checked again here, against today's
 * rules: one stored before a rule existed dead-letters (listed, redeliverable
 * once corrected) instead of being used.
 */
export async function attemptDelivery(c: DueCallback, to: Destination, allowPrivate: boolean): Promise<Settlement> {
	const attempts = c.attempts + 1;
	// The backoff counts from the end of the failed attempt: a receiver that hung until the timeout is not tried again at once.
	const failed = (status: number | null, error: string): Settlement =>
		attempts >= to.maxAttempts
			? { id: c.id, kind: "dead", attempts, status, error }
			: { id: c.id, kind: "retry", attempts, nextAttemptAt: clock.now() + backoffMs(attempts), status, error };
	const unusable = (error: string): Settlement => ({ id: c.id, kind: "dead", attempts: c.attempts, status: null, error });
	if (to.url === "") return unusable("The app has no callback_url.");
	// callback_max_attempts was lowered below what this callback has had already.
	if (c.attempts >= to.maxAttempts) return unusable("callback_max_attempts reached.");
	const refusal = callbackUrlProblem(to.url) ?? callbackUrlRefusal(to.url, allowPrivate);
	if (refusal) return unusable(`The callback_url ${refusal}: set another one, then redeliver.`);
	if (callbackSecretProblem(to.secret)) {
		return unusable("The callback_secret cannot travel in a header (set a new one of printable ASCII), then redeliver.");
	}

	const body = callbackBody(c, to.appKey);
	const headers: Record<string, string> = {
		"content-type": "application/json",
		"user-agent": "edge-im-callbacks",
		"x-webhook-id": c.webhookId,
		"x-webhook-attempt": String(attempts),
	};
	if (to.secret !== "") {
		headers.signature = to.secret; // the source service's scheme: the shared secret itself
		headers["x-signature"] = await hmacSignature(to.secret, body, Math.floor(clock.now() / 1000));
	}
	let response: Response;
	try {
		// A redirect is not followed (it would be an answer other than 2xx, and could point anywhere).
		response = await transport.post(to.url, {
			method: "POST",
			headers,
			body,
			redirect: "manual",
			signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
		});
	} catch (error) {
		const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
		return failed(
			null,
			timedOut ? `No answer within ${CALLBACK_TIMEOUT_MS / 1000} s.` : `Could not connect: ${errorMessage(error, to.secret)}`,
		);
	}
	await response.body?.cancel(); // the answer's body is not read
	if (response.status >= 200 && response.status < 300) return { id: c.id, kind: "delivered", status: response.status };
	return failed(response.status, `The receiver answered ${response.status}.`);
}

/** What a failed connection said, without the secret (a runtime's error may quote a header), for the dead-letter list. */
const errorMessage = (error: unknown, secret: string) => {
	const text = error instanceof Error ? error.message : String(error);
	return (secret === "" ? text : text.replaceAll(secret, "[secret]")).slice(0, 200);
};
