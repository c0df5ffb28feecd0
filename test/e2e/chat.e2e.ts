// The chat page at / (web/, built on the client library) in a real browser:
// Debian's Chromium driven by playwright-core. Two people log in as the dev
// users and chat at desktop width and at a phone's 390×844; errors show next
// to what failed and keep what was typed; the session survives a reload; and
// a server restart mid-conversation loses nothing on either page.
// Screenshots go to test-results/.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ImClient } from "../../client/src/index";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { startDevServer } from "../../scripts/devServer.mjs";
import { request } from "./client";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
let browser: Browser;

/** `npm run dev` seeds ann and ben once the server answers. */
async function devUsersReady(baseUrl: string) {
	for (let i = 0; ; i++) {
		const reply = await fetch(new URL("/token/user", baseUrl), {
			method: "POST",
			headers: { app_id: "1", "content-type": "application/json" },
			body: JSON.stringify({ name: "ben", password: "password1" }),
		}).catch(() => null);
		if (reply?.status === 200) return;
		if (i > 100) throw new Error("the dev users were not seeded");
		await new Promise((r) => setTimeout(r, 200));
	}
}

beforeAll(async () => {
	expect(existsSync(CHROMIUM), `a browser at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
	await devUsersReady(inject("baseUrl"));
	mkdirSync("test-results", { recursive: true });
});

afterAll(async () => {
	await browser?.close();
});

type Person = { page: Page; userId: number };

async function logIn(name: string, viewport = DESKTOP, baseUrl = inject("baseUrl")): Promise<Person> {
	const page = await (await browser.newContext({ viewport })).newPage();
	await page.goto(new URL("/", baseUrl).toString());
	await page.getByLabel("Username").fill(name);
	await page.getByLabel("Password").fill("password1");
	await page.getByRole("button", { name: "Log in" }).click();
	await page.waitForSelector("#live.on");
	return { page, userId: Number(await page.getAttribute("#who", "data-user-id")) };
}

async function openWith(person: Person, id: number, type: "User" | "Group" = "User") {
	await person.page.getByLabel("With a").selectOption({ label: type });
	await person.page.getByLabel("Open a conversation").fill(String(id));
	await person.page.getByRole("button", { name: "Open", exact: true }).click();
}

async function type(person: Person, text: string) {
	await person.page.getByLabel("Message", { exact: true }).fill(text);
	await person.page.getByLabel("Message", { exact: true }).press("Enter"); // the keyboard sends
}

const messages = (page: Page) => page.locator("#message-list .message");
const lastMessage = (page: Page) => messages(page).last();
const row = (page: Page, id: number) => page.locator(`#conversations .row[data-peer="${id}"]`);
const texts = async (page: Page) => (await page.locator("#message-list .message .text").allTextContents()).map((t) => t.trim());

/** Nothing wider than the screen: no horizontal scroll. */
async function fitsWidth(page: Page) {
	return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** Entirely on screen. */
async function onScreen(page: Page, selector: string) {
	const box = await page.locator(selector).boundingBox();
	const { width, height } = page.viewportSize() as { width: number; height: number };
	return box !== null && box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height;
}

describe("the chat page in a browser", () => {
	it("desktop: names, a message with Enter, the list's last message and badge, the read receipt, a streamed reply", async () => {
		const ann = await logIn("ann");
		const ben = await logIn("ben");
		await openWith(ann, ben.userId);
		await expect.poll(() => ann.page.textContent("#title")).toBe("ben");
		const text = `hello ben ${Date.now()}`;
		await type(ann, text);
		await expect.poll(() => ann.page.inputValue("#text")).toBe("");
		// Ben's list: Ann's name, the message, a badge; he opens it and it is read.
		const annRow = row(ben.page, ann.userId);
		await expect.poll(() => annRow.locator(".name").textContent(), { timeout: 10_000 }).toBe("ann");
		await expect.poll(() => annRow.locator(".preview").textContent()).toBe(text);
		await expect.poll(() => annRow.locator(".badge").textContent()).not.toBe("");
		await annRow.click();
		await expect.poll(() => lastMessage(ben.page).locator(".text").textContent()).toBe(text);
		await expect.poll(() => annRow.locator(".badge").textContent()).toBe("");
		await expect.poll(() => lastMessage(ann.page).locator(".status").textContent(), { timeout: 10_000 }).toBe("Read");
		// Ann streams a reply (the demo): Ben sees it grow, then the final text.
		await ann.page.getByRole("button", { name: "Demo: stream a bot reply" }).click();
		await expect.poll(() => lastMessage(ben.page).locator(".text").textContent(), { timeout: 10_000 }).toMatch(/^Streaming works/);
		expect(await lastMessage(ben.page).locator(".text").textContent()).not.toContain("final text.");
		await expect
			.poll(() => lastMessage(ben.page).locator(".text").textContent(), { timeout: 20_000 })
			.toContain("keeps only the final text.");
		await ann.page.screenshot({ path: "test-results/chat-desktop-ann.png" });
		await ben.page.screenshot({ path: "test-results/chat-desktop-ben.png" });
		await ann.page.context().close();
		await ben.page.context().close();
	});

	it("errors stay next to what failed: an unknown id or one's own never replaces the open conversation; a failed send keeps the text", async () => {
		const ann = await logIn("ann");
		const ben = await request("POST", "/token/user", { headers: { app_id: "1" }, body: { name: "ben", password: "password1" } });
		const benId = ben.body.data.user_id as number;
		await openWith(ann, benId);
		await expect.poll(() => ann.page.textContent("#title")).toBe("ben");
		await openWith(ann, 987_654_321);
		await expect.poll(() => ann.page.textContent("#open-error")).toBe("There is no user 987654321 in this app.");
		expect(await ann.page.textContent("#title")).toBe("ben");
		await openWith(ann, ann.userId);
		await expect.poll(() => ann.page.textContent("#open-error")).toContain("your own id");
		expect(await ann.page.textContent("#title")).toBe("ben");
		await openWith(ann, 987_654_321, "Group");
		await expect.poll(() => ann.page.textContent("#open-error")).not.toBe("");
		expect(await ann.page.textContent("#title")).toBe("ben");
		// The service unreachable for a send: said under the composer, the text kept.
		await ann.page.route("**/message/send", (route) => route.abort("connectionrefused"));
		await type(ann, "this one must not be lost");
		await expect.poll(() => ann.page.textContent("#compose-error")).toContain("cannot be reached");
		expect(await ann.page.inputValue("#text")).toBe("this one must not be lost");
		await ann.page.unroute("**/message/send");
		await ann.page.getByRole("button", { name: "Send" }).click();
		await expect.poll(() => ann.page.inputValue("#text")).toBe("");
		expect(await ann.page.textContent("#compose-error")).toBe("");
		// Disabled buttons look disabled: dimmed, and the cursor says so.
		const dimmed = await ann.page.evaluate(() => {
			const b = document.getElementById("older") as HTMLButtonElement;
			b.hidden = false;
			b.disabled = true;
			const style = getComputedStyle(b);
			const answer = { opacity: Number(style.opacity), cursor: style.cursor };
			b.disabled = false;
			b.hidden = true;
			return answer;
		});
		expect(dimmed.opacity).toBeLessThan(0.6);
		expect(dimmed.cursor).toBe("not-allowed");
		await ann.page.context().close();
	});

	it("the session survives a reload; log out ends it; /favicon.ico is served", async () => {
		const ann = await logIn("ann");
		await ann.page.reload();
		await ann.page.waitForSelector("#live.on");
		expect(await ann.page.isVisible("#login")).toBe(false);
		await ann.page.getByRole("button", { name: "Log out" }).click();
		expect(await ann.page.isVisible("#login")).toBe(true);
		await ann.page.reload();
		expect(await ann.page.isVisible("#login")).toBe(true);
		expect(await ann.page.evaluate(() => localStorage.length)).toBe(0);
		const icon = await fetch(new URL("/favicon.ico", inject("baseUrl")));
		expect(icon.status).toBe(200);
		expect(icon.headers.get("content-type")).toMatch(/icon/);
		await ann.page.context().close();
	});

	it("groups: create one, senders named; recall your own message; load older messages", async () => {
		const ann = await logIn("ann");
		const ben = await logIn("ben");
		await ann.page.getByText("New group").click();
		const name = `trip ${Date.now() % 100_000}`;
		await ann.page.getByLabel("Name", { exact: true }).fill(name);
		await ann.page.getByLabel("Members").fill(String(ben.userId));
		await ann.page.getByRole("button", { name: "Create group" }).click();
		await expect.poll(() => ann.page.textContent("#title")).toBe(name);
		await type(ann, "who is in?");
		const groupId = Number(await ann.page.locator("#conversations .row.open").getAttribute("data-peer"));
		await row(ben.page, groupId).click();
		await expect.poll(() => lastMessage(ben.page).locator(".sender").textContent(), { timeout: 10_000 }).toBe("ann");
		await expect.poll(() => lastMessage(ben.page).locator(".text").textContent()).toBe("who is in?");
		// Ann recalls it: both sides show the tombstone.
		await lastMessage(ann.page).getByRole("button", { name: "Recall" }).click();
		await expect.poll(() => lastMessage(ann.page).locator(".text").textContent()).toBe("Message recalled");
		await expect.poll(() => lastMessage(ben.page).locator(".text").textContent(), { timeout: 10_000 }).toBe("Message recalled");
		// 60 more (the page shows 50 at first): Ben loads the older ones.
		const { page } = ann;
		const token = await page.evaluate(() => JSON.parse(localStorage.getItem("edge-im-session") ?? "{}").token as string);
		for (let n = 0; n < 60; n++) {
			await request("POST", "/message/send", {
				headers: { app_id: "1", "access-token": token },
				body: { type: 2, targets: [groupId], content_type: 0, content: `filler ${n}` },
			});
		}
		await ben.page.reload();
		await ben.page.waitForSelector("#live.on");
		await row(ben.page, groupId).click();
		await expect.poll(() => messages(ben.page).count()).toBe(50);
		await ben.page.getByRole("button", { name: "Load older messages" }).click();
		await expect.poll(() => messages(ben.page).count()).toBe(61);
		expect((await texts(ben.page))[0]).toBe("Message recalled");
		expect(await ben.page.isVisible("#older")).toBe(false);
		await ann.page.context().close();
		await ben.page.context().close();
	});

	it("a phone (390×844): no horizontal scroll, the list and the conversation as two views, the composer on screen", async () => {
		const ann = await logIn("ann", PHONE);
		const ben = await logIn("ben", PHONE);
		expect(await fitsWidth(ann.page)).toBe(true);
		expect(await ann.page.isVisible("#conversations")).toBe(true);
		expect(await ann.page.isVisible("#text")).toBe(false);
		await openWith(ann, ben.userId);
		await expect.poll(() => ann.page.isVisible("#text")).toBe(true);
		expect(await ann.page.isVisible("#conversations")).toBe(false);
		expect(await onScreen(ann.page, "#text")).toBe(true);
		expect(await onScreen(ann.page, "#send")).toBe(true);
		const long = `a long line without spaces ${"x".repeat(300)}`;
		await type(ann, long);
		await expect.poll(() => lastMessage(ann.page).locator(".text").textContent()).toBe(long);
		expect(await fitsWidth(ann.page)).toBe(true);
		// Ben, on the list, sees it; opens it; goes back.
		await expect.poll(() => row(ben.page, ann.userId).locator(".preview").textContent(), { timeout: 10_000 }).toBe(long);
		await row(ben.page, ann.userId).click();
		await expect.poll(() => lastMessage(ben.page).locator(".text").textContent()).toBe(long);
		expect(await fitsWidth(ben.page)).toBe(true);
		expect(await onScreen(ben.page, "#send")).toBe(true);
		await ann.page.screenshot({ path: "test-results/chat-phone-ann.png" });
		await ben.page.screenshot({ path: "test-results/chat-phone-ben.png" });
		await ben.page.getByRole("button", { name: "Back to the conversations" }).click();
		expect(await ben.page.isVisible("#conversations")).toBe(true);
		await ann.page.context().close();
		await ben.page.context().close();
	});
});

describe("the chat page across a server restart", () => {
	it("the server stops and starts mid-conversation: both pages show every message and the right receipts", async () => {
		let server = await startDevServer({ adminToken: "chat-restart-admin", keepState: true, localObservability: false });
		const { port, stateDir } = server;
		try {
			await devUsersReady(server.url);
			const ann = await logIn("ann", DESKTOP, server.url);
			const ben = await logIn("ben", PHONE, server.url);
			await openWith(ann, ben.userId);
			await type(ann, "before the restart");
			await row(ben.page, ann.userId).click();
			await expect.poll(() => lastMessage(ben.page).locator(".text").textContent(), { timeout: 10_000 }).toBe("before the restart");

			await server.stop();
			await expect.poll(() => ann.page.textContent("#live"), { timeout: 10_000 }).not.toBe("live");
			// A send while it is down: said, and the text kept.
			await type(ann, "during the restart");
			await expect.poll(() => ann.page.textContent("#compose-error"), { timeout: 15_000 }).not.toBe("");
			expect(await ann.page.inputValue("#text")).toBe("during the restart");
			server = await startDevServer({ adminToken: "chat-restart-admin", stateDir, port, localObservability: false });
			await devUsersReady(server.url);
			// Messages written while the pages were away (from another device of Ann's) come in on resume.
			const annPhone = new ImClient({ baseUrl: server.url, appId: "1" });
			await annPhone.login("ann", "password1");
			await annPhone.postMessageSend({ body: { type: 1, targets: [ben.userId], content_type: 0, content: "from ann's phone" } });
			await expect.poll(() => ann.page.textContent("#live"), { timeout: 60_000 }).toBe("live");
			await expect.poll(() => ben.page.textContent("#live"), { timeout: 60_000 }).toBe("live");
			await ann.page.getByRole("button", { name: "Send" }).click(); // the kept text, sent again
			const all = ["before the restart", "from ann's phone", "during the restart"];
			await expect.poll(() => texts(ben.page), { timeout: 30_000 }).toEqual(all);
			await expect.poll(() => texts(ann.page), { timeout: 30_000 }).toEqual(all);
			// Ben has the conversation open: it is read, and Ann sees all three READ.
			await expect
				.poll(() => ann.page.locator("#message-list .message .status").allTextContents(), { timeout: 30_000 })
				.toEqual(["Read", "Read", "Read"]);
			await ann.page.screenshot({ path: "test-results/chat-restart-ann.png" });
			await ben.page.screenshot({ path: "test-results/chat-restart-ben.png" });
			await ann.page.context().close();
			await ben.page.context().close();
		} finally {
			await server.stop();
			rmSync(stateDir, { recursive: true, force: true });
		}
	}, 180_000);
});
