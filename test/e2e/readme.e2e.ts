// The README's walk-through, run as printed (only the server address and the
// dev admin token are those of this suite's server).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";

describe("e2e: README walk-through", () => {
	it("runs as printed and shows what it says", () => {
		const readme = readFileSync("README.md", "utf8");
		const block = readme.match(/## Walk-through[\s\S]*?```sh\n([\s\S]*?)```/)?.[1];
		expect(block).toBeTruthy();
		const script = (block as string)
			.replaceAll("http://127.0.0.1:8787", inject("baseUrl"))
			.replaceAll("dev-admin-token", inject("devAdminToken"));
		const output = execFileSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8" });
		expect(output).toContain("idempotent-replayed: true");
		expect(output).toMatch(/"num":1,"type":1/);
		expect(output).toMatch(/(^|\})READ$/m); // the status line Alice reads: READ, not UNREAD (curl leaves no newline before it)
		expect(output).toContain("recalled: true");
		// The group: Bob's newest conversation is the group, with one unread.
		expect(output).toMatch(/num: 1,\s+type: 2/);
	});
});
