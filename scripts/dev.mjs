// npm run dev [-- --port N --persist-to DIR]
// Local development in one command: a signing key in .dev.vars, the /docs
// assets copied, the D1 migrations applied to local state, the dev app seeded
// (app_id "1", admin token DEV_ADMIN_TOKEN or "dev-admin-token"), then `wrangler dev`.
// Everything here touches local state only; nothing is sent to Cloudflare.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { copyDocsAssets } from "./docs-assets.mjs";
import { localStateArgs, option, sqlString, wrangler, wranglerForeground } from "./wrangler.mjs";

const argv = process.argv.slice(2);
const local = ["--local", ...localStateArgs(argv)];

if (!existsSync(".dev.vars")) {
	writeFileSync(".dev.vars", `TOKEN_SIGNING_KEY=${randomBytes(32).toString("hex")}\n`);
	console.log("Wrote .dev.vars with a fresh TOKEN_SIGNING_KEY.");
}

copyDocsAssets();
wrangler(["d1", "migrations", "apply", "DB", ...local], { quiet: true });

const adminToken = process.env.DEV_ADMIN_TOKEN || "dev-admin-token";
const hash = createHash("sha256").update(adminToken).digest("hex");
wrangler(
	[
		"d1",
		"execute",
		"DB",
		...local,
		"--command",
		`INSERT INTO apps (id, key, name, admin_token_hash, open_registration, recall_window_s, created_at)
		VALUES (1, '1', 'dev', ${sqlString(hash)}, 0, 120, ${Date.now()})
		ON CONFLICT (id) DO UPDATE SET admin_token_hash = excluded.admin_token_hash`,
	],
	{ quiet: true },
);
console.log(`Dev app ready: app_id 1, admin token "${adminToken}".`);

const port = option(argv, "port");
wranglerForeground(["dev", "--ip", "127.0.0.1", "--port", typeof port === "string" ? port : "8787", ...localStateArgs(argv)]);
