// Builds public/, the folder wrangler serves as Workers static assets (not
// committed; `npm run dev`, `npm test` and `npm run deploy` run this first):
// - the chat page at / (web/index.html, and web/chat.ts bundled by esbuild
//   with the client library from client/src, whose generated part is built
//   first), and /favicon.ico;
// - the Swagger UI files /docs loads, copied from swagger-ui-dist (so /docs
//   works offline, in `npm run dev` too).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { generateClient } from "./build-client.mjs";

const SWAGGER_FILES = ["swagger-ui.css", "swagger-ui-bundle.js"];

export async function buildPublic() {
	const root = join(dirname(fileURLToPath(import.meta.url)), "..");
	const swagger = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
	const docs = join(root, "public", "docs", "assets");
	mkdirSync(docs, { recursive: true });
	for (const file of SWAGGER_FILES) copyFileSync(join(swagger, file), join(docs, file));
	for (const file of ["index.html", "favicon.ico"]) copyFileSync(join(root, "web", file), join(root, "public", file));
	await generateClient();
	buildSync({
		entryPoints: [join(root, "web", "chat.ts")],
		outfile: join(root, "public", "chat.js"),
		bundle: true,
		format: "esm",
		target: "es2022",
		logLevel: "warning",
	});
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPublic();
