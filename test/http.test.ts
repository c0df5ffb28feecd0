import { SELF } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseId } from "../src/http/ids";
import { MAX_ID } from "../src/limits";
import { call, createApp, d1Sessions, registerUser, type TestApp, userToken } from "./support";

let app: TestApp;

beforeAll(async () => {
	app = await createApp();
});

afterEach(() => vi.restoreAllMocks());

describe("conventions", () => {
	it("an unknown path is a 404 envelope with x-request-id", async () => {
		const reply = await call("/nope", { app });
		expect(reply.status).toBe(404);
		expect(reply.body).toEqual({ code: 404, message: "No endpoint at /nope.", data: null });
		expect(reply.headers.get("x-request-id")).toBeTruthy();
	});

	it("a known path with the wrong method is a 405 envelope", async () => {
		for (const [method, path] of [
			["GET", "/message/send"],
			["DELETE", "/token/user"],
			["POST", "/message/conversation"],
			["POST", "/healthz"],
		] as const) {
			const reply = await call(path, { app, method });
			expect(reply.status).toBe(405);
			expect(reply.body).toMatchObject({ code: 405, data: null });
			expect(reply.body.message).toContain(method);
		}
	});

	it("PUT is accepted on /message/send as POST is", async () => {
		const [a, b] = [await registerUser(app), await registerUser(app)];
		const reply = await call("/message/send", {
			app,
			method: "PUT",
			body: { type: 1, from_user_id: a, targets: [b], content_type: 0, content: "put" },
		});
		expect(reply.status).toBe(200);
	});

	it("every response has a distinct x-request-id", async () => {
		const a = await call("/healthz");
		const b = await call("/nope");
		expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
	});

	it("a body over 64 KiB is 413, by Content-Length, before parsing", async () => {
		const reply = await call("/message/send", {
			app,
			rawBody: `{"content":"${"x".repeat(70_000)}"}`,
			headers: { "content-type": "application/json" },
		});
		expect(reply.status).toBe(413);
		expect(reply.body).toMatchObject({ code: 413, data: null });
		// Refused by the declared length alone: a body that fails when read is never read.
		const unreadable = new ReadableStream({
			pull() {
				throw new Error("the body was read");
			},
		});
		const declared = await call("/message/send", {
			app,
			rawBody: unreadable,
			headers: { "content-type": "application/json", "content-length": String(70_000) },
		});
		expect(declared.status).toBe(413);
	});

	it("a body over 64 KiB without Content-Length (streamed) is 413", async () => {
		const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
		const stream = new ReadableStream({
			start(controller) {
				for (let i = 0; i < 5; i++) controller.enqueue(chunk);
				controller.close();
			},
		});
		const response = await SELF.fetch("https://im.test/message/send", {
			method: "POST",
			headers: { app_id: app.key, "access-token": app.adminToken },
			body: stream,
		});
		expect(response.status).toBe(413);
	});

	it("a body that does not parse, or is not an object, is 400", async () => {
		for (const raw of ["{", "[1,2]", '"text"', "42", "null", ""]) {
			const reply = await call("/message/send", { app, rawBody: raw });
			expect(reply.status, raw).toBe(400);
			expect(reply.body.data).toBeNull();
		}
	});

	it("an unexpected error is a 500 without internals; a D1 failure is a 503 with Retry-After", async () => {
		const d1 = d1Sessions;
		vi.spyOn(d1, "prepare").mockImplementation(() => {
			throw new Error("D1_ERROR: Network connection lost (at /secret/path)");
		});
		const unavailable = await call("/token/user", { app, token: null, body: { name: "someone", password: "secret-pw" } });
		expect(unavailable.status).toBe(503);
		expect(unavailable.headers.get("retry-after")).toBe("1");
		expect(unavailable.body.message).not.toContain("secret");
		vi.restoreAllMocks();

		vi.spyOn(crypto.subtle, "digest").mockRejectedValueOnce(new TypeError("internal detail at src/secret.ts:1"));
		const internal = await call("/user/register/v2", { app, body: { username: "x", password: "secret-pw" } });
		expect(internal.status).toBe(500);
		expect(internal.body).toEqual({ code: 500, message: "Internal error; quote the x-request-id header when reporting it.", data: null });
	});

	it("the server logs an error with the request id it answered", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => {});
		vi.spyOn(crypto.subtle, "digest").mockRejectedValueOnce(new TypeError("boom"));
		const reply = await call("/user/register/v2", { app, body: { username: "y", password: "secret-pw" } });
		const requestId = reply.headers.get("x-request-id") as string;
		expect(reply.status).toBe(500);
		expect(logged.mock.calls.some(([line]) => String(line).includes(requestId) && String(line).includes("boom"))).toBe(true);
	});

	it("a repeated query parameter counts once, by its first value", async () => {
		const [a, b, c] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		await call("/message/send", { app, body: { type: 1, from_user_id: a, targets: [b], content_type: 0, content: "to b" } });
		const token = await userToken(app, a);
		const withB = await call(`/message/conversation?opposite_id=${b}&opposite_id=${c}&limit=5&limit=x`, { app, token });
		expect(withB.status).toBe(200);
		expect(withB.body.data.messages.map((m: { content: string }) => m.content)).toEqual(["to b"]);
		const withC = await call(`/message/conversation?opposite_id=${c}&opposite_id=${b}`, { app, token });
		expect(withC.status).toBe(200);
		expect(withC.body.data.messages).toEqual([]);
	});

	it("an unknown field in a body is ignored", async () => {
		const [a, b] = [await registerUser(app), await registerUser(app)];
		const reply = await call("/message/send", {
			app,
			body: { type: 1, from_user_id: a, targets: [b], content_type: 0, content: "x", no_such_field: { deep: [1] } },
		});
		expect(reply.status).toBe(200);
	});

	it("timestamps are milliseconds since the Unix epoch", async () => {
		const [a, b] = [await registerUser(app), await registerUser(app)];
		const before = Date.now();
		await call("/message/send", { app, body: { type: 1, from_user_id: a, targets: [b], content_type: 0, content: "when?" } });
		const after = Date.now();
		const page = await call("/message/conversation", { app, headers: { user_id: String(b) }, query: { opposite_id: a } });
		const [message] = page.body.data.messages;
		expect(message.timestamp).toBeGreaterThanOrEqual(before);
		expect(message.timestamp).toBeLessThanOrEqual(after);
	});
});

describe("id parsing", () => {
	it.each([
		[1, 1],
		["42", 42],
		[MAX_ID, MAX_ID],
		[String(MAX_ID), MAX_ID],
	])("accepts %j", (input, expected) => expect(parseId(input)).toBe(expected));

	it.each([0, -1, 1.5, MAX_ID + 1, "", "-1", "1.0", "1e3", "+1", " 1", "0x10", "9007199254740992", null, true, [1], {}])(
		"rejects %j",
		(input) => expect(parseId(input)).toBeNull(),
	);

	it("accepts 0 only where a peer is expected", () => {
		expect(parseId(0, { allowZero: true })).toBe(0);
		expect(parseId("0", { allowZero: true })).toBe(0);
		expect(parseId(0)).toBeNull();
	});
});

describe("ids in requests", () => {
	it("ids may arrive as decimal strings anywhere", async () => {
		const [a, b] = [await registerUser(app), await registerUser(app)];
		const reply = await call("/message/send", {
			app,
			headers: { user_id: String(a) },
			body: { type: "1", targets: [String(b)], content_type: "0", content: "strings" },
		});
		expect(reply.status).toBe(200);
		const token = await userToken(app, b);
		const page = await call("/message/conversation", { app, token, query: { opposite_id: String(a), limit: "5" } });
		expect(page.body.data.messages[0].content).toBe("strings");
	});
});
