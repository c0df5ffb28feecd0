import { z } from "zod";
import { rawEndpoint } from "./contract";

/** Where the Swagger UI files are served from (Workers static assets; see scripts/public-assets.mjs). */
export const DOCS_ASSETS = "/docs/assets";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-im API</title>
<link rel="stylesheet" href="${DOCS_ASSETS}/swagger-ui.css">
<style>body { margin: 0; } .topbar { display: none; }</style>
</head>
<body>
<div id="api"></div>
<script src="${DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#api", deepLinking: true, validatorUrl: null, docExpansion: "list", defaultModelsExpandDepth: 0 });
</script>
</body>
</html>
`;

export const docsPage = rawEndpoint({
	path: "/docs",
	summary: "This API, as a page to read in a browser",
	description: "Renders /openapi.json with Swagger UI; its scripts and styles are served by the Worker itself, so it works offline.",
	contentType: "text/html",
	data: z.string(),
	serve: () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }),
});
