// A minimal external client: Node's fetch, headers as strings.
import { inject } from "vitest";

export type Reply = { status: number; headers: Headers; body: any };

export async function request(
	method: string,
	path: string,
	{ headers = {}, body, query }: { headers?: Record<string, string>; body?: unknown; query?: Record<string, string | number> } = {},
): Promise<Reply> {
	const url = new URL(path, inject("baseUrl"));
	for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
	const response = await fetch(url, {
		method,
		headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: response.status, headers: response.headers, body: await response.json() };
}

export const admin = (appId: number | string = "1", token = inject("devAdminToken")) => ({
	app_id: String(appId),
	"access-token": token,
});
