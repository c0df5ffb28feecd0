// npm run app:rotate-token -- --app KEY [--remote] [--persist-to DIR]
// Replaces an app's admin token and prints one JSON line {"app_id": "KEY", "admin_token": "..."}.
// The old token stops working at once for new isolates, and within 60 s
// everywhere (isolates remember an app that long; docs/DESIGN.md, "Memos").
import { createHash, randomBytes } from "node:crypto";
import { LOCAL_STATE_FLAGS, parseCommand, step, usageError } from "./cli.mjs";
import { APP_KEY, d1Rows, placementOf, sqlString, target } from "./wrangler.mjs";

const command = {
	usage: "usage: npm run app:rotate-token -- --app KEY [--remote] [--persist-to DIR]",
	summary:
		"Replaces an app's admin token and prints the new one once. The old one stops working within 60 s; realtime channels opened with it are closed (4003).",
	flags: {
		app: { type: "string", value: "KEY", help: "The app (its app_id). Required." },
		...LOCAL_STATE_FLAGS,
	},
};
const flags = parseCommand(command);
if (typeof flags.app !== "string" || !APP_KEY.test(flags.app)) usageError(command, "--app KEY is required (1-64 of A-Z a-z 0-9 _ -)");
const where = target(flags);

const adminToken = `adm_${randomBytes(32).toString("hex")}`;
const hash = createHash("sha256").update(adminToken).digest("hex");
const rotated = await step("Writing the new token's hash", async () => {
	// The app's row is in the database the directory names.
	const placement = await placementOf(flags.app, where);
	if (!placement) return false;
	const update = `UPDATE apps SET admin_token_hash = ${sqlString(hash)} WHERE key = ${sqlString(flags.app)} RETURNING key`;
	return (await d1Rows(placement.database_binding, where, update))[0]?.key === flags.app;
});
if (!rotated) {
	console.error(`no app ${flags.app} in the ${flags.remote ? "deployed" : "local"} databases`);
	process.exit(1);
}
console.log(JSON.stringify({ app_id: flags.app, admin_token: adminToken }));
