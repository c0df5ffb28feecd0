// SQL for apps (tenants). Clients name an app by its key (the source
// service's AppID, e.g. "welovemaxim"); rows, object names and KV keys use
// its internal number.
import { and, eq } from "drizzle-orm";
import type { Database } from "./client";
import { appDirectory, apps } from "./schema";

/** An app as requests use it: its row, and the D1 binding that holds it (from the directory). */
export type AppRecord = Pick<
	typeof apps.$inferSelect,
	"id" | "key" | "adminTokenHash" | "openRegistration" | "recallWindowS" | "sendRatePerMin"
> & { databaseBinding: string };

/** Where an app lives: its number and its database's binding (src/db/databases.ts). */
export type Placement = { appId: number; databaseBinding: string };

/** The directory's entry for the app, by its key or its number (read in binding DB). */
export async function placementOf(directory: Database, app: { key: string } | { appId: number }): Promise<Placement | undefined> {
	return directory
		.select({ appId: appDirectory.appId, databaseBinding: appDirectory.databaseBinding })
		.from(appDirectory)
		.where("key" in app ? eq(appDirectory.key, app.key) : eq(appDirectory.appId, app.appId))
		.get();
}

/** The app's row, from the database that holds it. */
export async function findApp(db: Database, key: string): Promise<Omit<AppRecord, "databaseBinding"> | undefined> {
	return db
		.select({
			id: apps.id,
			key: apps.key,
			adminTokenHash: apps.adminTokenHash,
			openRegistration: apps.openRegistration,
			recallWindowS: apps.recallWindowS,
			sendRatePerMin: apps.sendRatePerMin,
		})
		.from(apps)
		.where(eq(apps.key, key))
		.get();
}

/** An app's settings (docs/API.md "Message callbacks"), the secret included: only the delivering drainer and the API's `callback_secret_set` read it. */
export type AppSettings = Pick<
	typeof apps.$inferSelect,
	| "key"
	| "name"
	| "recallWindowS"
	| "openRegistration"
	| "callbackUrl"
	| "callbackSecret"
	| "callbackEvents"
	| "callbackMaxAttempts"
	| "sendRatePerMin"
	| "callbackUserIds"
>;
export type SettingsChange = Partial<Omit<AppSettings, "key">>;

const settingsColumns = {
	key: apps.key,
	name: apps.name,
	recallWindowS: apps.recallWindowS,
	openRegistration: apps.openRegistration,
	callbackUrl: apps.callbackUrl,
	callbackSecret: apps.callbackSecret,
	callbackEvents: apps.callbackEvents,
	callbackMaxAttempts: apps.callbackMaxAttempts,
	sendRatePerMin: apps.sendRatePerMin,
	callbackUserIds: apps.callbackUserIds,
};

export async function appSettings(db: Database, appId: number): Promise<AppSettings | undefined> {
	return db.select(settingsColumns).from(apps).where(eq(apps.id, appId)).get();
}

/**
 * The app's settings after `change`. With `read`, made only if the callback
 * URL and secret are still what the caller read: a change decided on them (a
 * URL moving to another host needs a new secret) cannot pass a concurrent
 * one. Undefined: they changed meanwhile (or no such app). One statement.
 */
export async function changeAppSettings(
	db: Database,
	appId: number,
	change: SettingsChange,
	read?: Pick<AppSettings, "callbackUrl" | "callbackSecret">,
): Promise<AppSettings | undefined> {
	if (Object.keys(change).length === 0) return appSettings(db, appId);
	const unchanged = read ? [eq(apps.callbackUrl, read.callbackUrl), eq(apps.callbackSecret, read.callbackSecret)] : [];
	return db
		.update(apps)
		.set(change)
		.where(and(eq(apps.id, appId), ...unchanged))
		.returning(settingsColumns)
		.get();
}

/** The hash of the app's current admin token (undefined: no such app): what an admin-opened channel is checked against. */
export async function adminTokenHashOf(db: Database, appId: number): Promise<string | undefined> {
	return (await db.select({ hash: apps.adminTokenHash }).from(apps).where(eq(apps.id, appId)).get())?.hash;
}
