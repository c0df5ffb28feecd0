import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "./support";

describe("GET /healthz", () => {
	it("answers the envelope with data ok, without app_id or token", async () => {
		const reply = await call("/healthz");
		expect(reply.status).toBe(200);
		expect(reply.body).toEqual({ code: 200, message: "", data: "ok" });
		expect(reply.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("answers through the runtime's own fetch (SELF) as well", async () => {
		const response = await SELF.fetch("https://im.test/healthz");
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({ code: 200, message: "", data: "ok" });
		expect(response.headers.get("x-request-id")).toBeTruthy();
	});
});
