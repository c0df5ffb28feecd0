// SQL for apps (tenants). Clients name an app by its key (the source
// service's AppID, e.g. "welovemaxim"); rows, object names and KV keys use
// its internal number.
import { eq } from "drizzle-orm";
import type { Database } from "./client";
import { apps } from "./schema";

export type AppRecord = Pick<typeof apps.$inferSelect, "id" | "key" | "adminTokenHash" | "openRegistration" | "recallWindowS">;

export async function findApp(db: Database, key: string): Promise<AppRecord | undefined> {
	return db
		.select({
			id: apps.id,
			key: apps.key,
			adminTokenHash: apps.adminTokenHash,
			openRegistration: apps.openRegistration,
			recallWindowS: apps.recallWindowS,
		})
		.from(apps)
		.where(eq(apps.key, key))
		.get();
}
