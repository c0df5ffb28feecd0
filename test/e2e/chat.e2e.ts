// The chat page at / (issue 10) in a real browser (Debian's Chromium, driven
// by playwright-core): two people log in as the dev users, chat live, see the
// read receipt and a streamed reply grow. Screenshots go to test-results/.
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { request } from "./client";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let browser: Browser;

beforeAll(async () => {
	expect(existsSync(CHROMIUM), `a browser at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
	// `npm run dev` seeds ann and ben once the server answers.
	for (let i = 0; ; i++) {
		const reply = await request("POST", "/token/user", { headers: { app_id: "1" }, body: { name: "ben", password: "password1" } });
		if (reply.status === 200) break;
		if (i > 50) throw new Error("the dev users were not seeded");
		await new Promise((r) => setTimeout(r, 200));
	}
});

afterAll(async () => {
	await browser?.close();
});

async function logIn(name: string): Promise<{ page: Page; userId: number }> {
	const page = await (await browser.newContext({ viewport: { width: 1100, height: 700 } })).newPage();
	await page.goto(new URL("/", inject("baseUrl")).toString());
	await page.fill("input[name=name]", name);
	await page.fill("input[name=password]", "password1");
	await page.click("form.login button");
	await page.waitForSelector("#live.on");
	const who = (await page.textContent("#who")) ?? "";
	return { page, userId: Number(/user (\d+)/.exec(who)?.[1]) };
}

const lastMessage = (page: Page) => page.locator(".message").last();

describe("the chat page in a browser", () => {
	it("a message typed in one tab appears in the other; the read receipt and a streamed reply show", async () => {
		const ann = await logIn("ann");
		const ben = await logIn("ben");
		// Ann opens a conversation with Ben and writes.
		await ann.page.fill("#open input", String(ben.userId));
		await ann.page.click("#open button");
		const text = `hello ben ${Date.now()}`;
		await ann.page.fill("#compose input[name=text]", text);
		await ann.page.click("#compose button[type=submit]");
		// It appears in Ben's list with an unread badge; he opens it and reads it.
		const row = ben.page.locator(`.conversation[data-peer="${ann.userId}"]`);
		await expect.poll(() => row.locator(".badge").textContent(), { timeout: 10_000 }).not.toBe("");
		await row.click();
		await expect.poll(() => lastMessage(ben.page).textContent(), { timeout: 10_000 }).toContain(text);
		// Ann sees READ under her message.
		await expect.poll(() => lastMessage(ann.page).locator(".meta").textContent(), { timeout: 10_000 }).toContain("READ");
		// Ann streams a reply: Ben sees it grow before it is complete, then the final text.
		await ann.page.click("#stream");
		await expect.poll(() => lastMessage(ben.page).textContent(), { timeout: 10_000 }).toMatch(/^Streaming works: each/);
		const partial = (await lastMessage(ben.page).textContent()) ?? "";
		expect(partial).not.toContain("final text.");
		await expect.poll(() => lastMessage(ben.page).textContent(), { timeout: 20_000 }).toContain("history keeps only the final text.");
		mkdirSync("test-results", { recursive: true });
		await ann.page.screenshot({ path: "test-results/chat-ann.png" });
		await ben.page.screenshot({ path: "test-results/chat-ben.png" });
	});
});
