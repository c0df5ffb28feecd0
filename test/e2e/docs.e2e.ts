// docs/API.md over real HTTP against `npm run dev`: /openapi.json is a valid
// OpenAPI 3.1 document (checked by @readme/openapi-parser), and /docs renders
// in a real browser (Debian's Chromium, driven by playwright-core) with every
// endpoint listed, its scripts served by the Worker itself.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { validate } from "@readme/openapi-parser";
import { chromium } from "playwright-core";
import { describe, expect, inject, it } from "vitest";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("/openapi.json and /docs over HTTP", () => {
	it("/openapi.json is a valid OpenAPI 3.1 document, served without credentials", async () => {
		const response = await fetch(new URL("/openapi.json", inject("baseUrl")));
		expect(response.status).toBe(200);
		const document = await response.json();
		const result = await validate(document);
		expect(result.valid ? [] : result.errors).toEqual([]);
		expect(result.specification).toBe("OpenAPI");
		expect(document.openapi).toBe("3.1.0");
	});

	it("/docs renders in a browser, lists every endpoint, and loads nothing from outside", async () => {
		expect(existsSync(CHROMIUM), `a browser at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
		const base = inject("baseUrl");
		const document = await (await fetch(new URL("/openapi.json", base))).json();
		const operations = Object.entries(document.paths as Record<string, object>).flatMap(([path, methods]) =>
			Object.keys(methods).map((method) => ({ path, method: method.toUpperCase() })),
		);
		const browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: [
				"--no-sandbox",
				"--disable-gpu",
				"--disable-quic",
				"--no-first-run",
				"--disable-background-networking",
				"--disable-component-update",
				"--disable-sync",
			],
		});
		try {
			const page = await browser.newPage({ viewport: { width: 1280, height: 2400 } });
			const outside: string[] = [];
			page.on("request", (r) => {
				if (!r.url().startsWith(base) && !r.url().startsWith("data:")) outside.push(r.url());
			});
			await page.goto(new URL("/docs", base).toString());
			await page.waitForSelector(".opblock", { timeout: 20_000 });
			const shown = await page.$$eval(".opblock-summary", (blocks) =>
				blocks.map(
					(b) =>
						`${b.querySelector(".opblock-summary-method")?.textContent?.trim()} ${b.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`,
				),
			);
			for (const { path, method } of operations) expect(shown, `${method} ${path}`).toContain(`${method} ${path}`);
			expect(await page.textContent(".info .title")).toContain("edge-im");
			expect(outside).toEqual([]);
			mkdirSync("test-results", { recursive: true });
			await page.screenshot({ path: "test-results/docs.png", fullPage: false });
		} finally {
			await browser.close();
		}
	});

	it("every file in public/ is served as itself (wrangler.toml run_worker_first leaves it to the assets); API paths reach the Worker", async () => {
		const base = inject("baseUrl");
		const files = readdirSync("public", { recursive: true, withFileTypes: true })
			.filter((entry) => entry.isFile())
			.map((entry) => `${entry.parentPath}/${entry.name}`.slice("public".length));
		expect(files).toContain("/chat.js");
		expect(files).toContain("/favicon.ico");
		for (const file of files) {
			const response = await fetch(new URL(file === "/index.html" ? "/" : file, base));
			expect(response.status, file).toBe(200);
			expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(`public${file}`)), file).toBe(true);
		}
		const api = await fetch(new URL("/healthz", base));
		expect(await api.json()).toMatchObject({ code: 200 });
		const unknown = await fetch(new URL("/no/such/path", base));
		expect([unknown.status, (await unknown.json()).code]).toEqual([404, 404]);
	});
});
