// npm run app:rotate-token -- --app KEY [--remote] [--persist-to DIR]
// Replaces an app's admin token and prints one JSON line {"app_id": "KEY", "admin_token": "..."}.
// The old token stops working at once for new isolates, and within 60 s
// everywhere (isolates remember an app that long; see README "Memos").
import { createHash, randomBytes } from "node:crypto";
import { APP_KEY, d1Rows, localStateArgs, option, placementOf, sqlString } from "./wrangler.mjs";

const argv = process.argv.slice(2);
const key = option(argv, "app");
if (typeof key !== "string" || !APP_KEY.test(key)) {
	console.error("usage: npm run app:rotate-token -- --app APP_ID [--remote]");
	process.exit(2);
}
const remote = option(argv, "remote") === true;
const target = remote ? ["--remote"] : ["--local", ...localStateArgs(argv)];

const adminToken = `adm_${randomBytes(32).toString("hex")}`;
const hash = createHash("sha256").update(adminToken).digest("hex");
// The app's row is in the database the directory names.
const placement = placementOf(key, target);
const update = `UPDATE apps SET admin_token_hash = ${sqlString(hash)} WHERE key = ${sqlString(key)} RETURNING key`;
if (!placement || d1Rows(placement.database_binding, target, update)[0]?.key !== key) {
	console.error(`no app ${key} in that database`);
	process.exit(1);
}
console.log(JSON.stringify({ app_id: key, admin_token: adminToken }));
