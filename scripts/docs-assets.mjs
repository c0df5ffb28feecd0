// Copies the Swagger UI files that /docs loads into public/docs/assets, the
// folder wrangler serves as Workers static assets. They come from the
// swagger-ui-dist package (so /docs works offline, in `npm run dev` too) and
// are not committed: `npm run dev`, `npm test` and `npm run deploy` run this first.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FILES = ["swagger-ui.css", "swagger-ui-bundle.js"];

export function copyDocsAssets() {
	const root = join(dirname(fileURLToPath(import.meta.url)), "..");
	const from = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
	const to = join(root, "public", "docs", "assets");
	mkdirSync(to, { recursive: true });
	for (const file of FILES) copyFileSync(join(from, file), join(to, file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) copyDocsAssets();
