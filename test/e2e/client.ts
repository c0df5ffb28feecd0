// A minimal external client: Node's fetch, headers as strings.
import { inject } from "vitest";
import { SOURCE_SHAPES, sourceShapeProblem } from "./sourceShapes";

export type Reply = { status: number; headers: Headers; body: any };

export async function request(
	method: string,
	path: string,
	{
		headers = {},
		body,
		query,
		raw,
	}: { headers?: Record<string, string>; body?: unknown; query?: Record<string, string | number>; raw?: string } = {},
): Promise<Reply> {
	const url = new URL(path, inject("baseUrl"));
	for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
	const response = await fetch(url, {
		method,
		headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
		body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
	});
	const reply = { status: response.status, headers: response.headers, body: await response.json() };
	// Every 200 of a message or group endpoint is held against the source service's documented shape.
	if (reply.status === 200) {
		const problem = sourceShapeProblem(method, url.pathname, reply.body);
		if (problem) throw new Error(problem);
		if (SOURCE_SHAPES[`${method} ${url.pathname}`]) shapesChecked.count++;
	}
	return reply;
}

/** How many answers this test file held against a documented shape. */
export const shapesChecked = { count: 0 };

export const admin = (appId: number | string = "1", token = inject("devAdminToken")) => ({
	app_id: String(appId),
	"access-token": token,
});
