// npm run app:create -- --name NAME [--app KEY] [--database BINDING] [--open-registration] [--recall-window-s N] [--remote] [--persist-to DIR]
// Creates an app and prints one JSON line {"app_id": "KEY", "admin_token": "...", "database": "BINDING"}
// (scripts/apps.mjs says how the key and the database are chosen).
import { AppError, createApp } from "./apps.mjs";
import { LOCAL_STATE_FLAGS, parseCommand, step, usageError } from "./cli.mjs";
import { APP_KEY, appDatabases, migrateAll, target } from "./wrangler.mjs";

const command = {
	usage:
		"usage: npm run app:create -- --name NAME [--app KEY] [--database BINDING] [--open-registration] [--recall-window-s N] [--remote] [--persist-to DIR]",
	summary:
		"Creates an app and prints one JSON line: its app_id (the header clients send), its admin token (shown only this once) and its database.",
	flags: {
		name: { type: "string", value: "NAME", help: "The app's name (1-100 characters). Required." },
		app: {
			type: "string",
			value: "KEY",
			help: "The app's key, 1-64 of A-Z a-z 0-9 _ - (an app moving from the source service keeps its AppID); default: the next free number.",
		},
		database: {
			type: "string",
			value: "BINDING",
			help: `The database it lives on, one of ${appDatabases().join(", ")}; default: the one with the fewest apps.`,
		},
		"open-registration": { type: "boolean", help: "Let anyone register users without the admin token." },
		"recall-window-s": { type: "string", value: "N", help: "Seconds a sender may recall a message.", default: "120" },
		...LOCAL_STATE_FLAGS,
	},
	notes: "Local state is migrated first, so this works before `npm run dev` has ever run.",
};
const flags = parseCommand(command);
if (typeof flags.name !== "string" || flags.name.trim() === "" || flags.name.length > 100)
	usageError(command, "--name is required (1-100 characters)");
if (flags.app !== undefined && !APP_KEY.test(flags.app)) usageError(command, "--app must be 1-64 characters from A-Z, a-z, 0-9, _ and -");
const recallWindowS = Number(flags["recall-window-s"]);
if (!/^[0-9]+$/.test(flags["recall-window-s"]) || !Number.isSafeInteger(recallWindowS))
	usageError(command, "--recall-window-s must be a whole number of seconds");
if (flags.database !== undefined && !appDatabases().includes(flags.database))
	usageError(command, `--database must be one of ${appDatabases().join(", ")} (wrangler.toml APP_DATABASES)`);

const where = target(flags);
if (!flags.remote) await step("Applying the migrations to local state", () => migrateAll(where));
try {
	const app = await step(`Creating the app in the ${flags.remote ? "deployed" : "local"} databases`, () =>
		createApp({
			name: flags.name,
			key: flags.app,
			database: flags.database,
			where,
			openRegistration: flags["open-registration"] === true,
			recallWindowS,
		}),
	);
	console.log(JSON.stringify(app));
} catch (error) {
	if (!(error instanceof AppError)) throw error;
	console.error(error.message);
	process.exit(1);
}
