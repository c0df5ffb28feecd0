// ImClient: every endpoint of the service as a typed method (generated from
// its OpenAPI document: client/src/generated), over fetch.

import { ImError } from "./errors.js";
import { Calls } from "./generated/calls.js";
import type { Transport } from "./types.js";

export type ClientOptions = {
	/** Where the service answers, e.g. "https://im.example.com". */
	baseUrl: string;
	/** The app's key (header app_id). */
	appId: string;
	/** A user token, or the app's admin token. */
	token?: string;
	/** With the admin token: act as this user on every call (header user_id). */
	actAs?: number;
	/** The fetch to use (default: the global one). */
	fetch?: typeof fetch;
};

export class ImClient extends Calls {
	readonly baseUrl: string;
	readonly appId: string;
	#token: string | undefined;
	readonly #actAs: number | undefined;
	readonly #fetch: typeof fetch;

	constructor(options: ClientOptions) {
		super();
		this.baseUrl = options.baseUrl;
		this.appId = options.appId;
		this.#token = options.token;
		this.#actAs = options.actAs;
		this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
	}

	get token(): string | undefined {
		return this.#token;
	}

	/** Uses `token` from now on (a fresh one after the old expired, or after logging in elsewhere). */
	setToken(token: string | undefined): void {
		this.#token = token;
	}

	/** Logs in (POST /token/user) and uses the token from now on; answers `{token, user_id, expire}`. */
	async login(name: string, password: string) {
		const answer = await this.postTokenUser({ body: { name, password } });
		this.setToken(answer.data.token);
		return answer.data;
	}

	protected call: Transport = async (method, path, init) => {
		const url = new URL(path, this.baseUrl);
		for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
		const headers: Record<string, string> = { app_id: this.appId };
		if (this.#token) headers["access-token"] = this.#token;
		if (this.#actAs !== undefined) headers.user_id = String(this.#actAs);
		if (init.body !== undefined) headers["content-type"] = "application/json";
		let response: Response;
		try {
			response = await this.#fetch(url, {
				method,
				headers: { ...headers, ...init.headers },
				body: init.body === undefined ? undefined : JSON.stringify(init.body),
				signal: init.signal,
			});
		} catch (error) {
			throw new ImError(0, `The service could not be reached: ${error instanceof Error ? error.message : String(error)}`, null);
		}
		const requestId = response.headers.get("x-request-id");
		const retryAfter = response.headers.get("retry-after");
		let answer: { code?: number; message?: string; data?: unknown };
		try {
			answer = (await response.json()) as typeof answer;
		} catch {
			throw new ImError(response.status, `The service answered ${response.status} without its envelope.`, requestId);
		}
		if (answer.code !== 200) {
			throw new ImError(
				answer.code ?? response.status,
				answer.message ?? `The service answered ${response.status}.`,
				requestId,
				answer.data ?? null,
				retryAfter === null ? null : Number(retryAfter),
			);
		}
		return answer;
	};
}
