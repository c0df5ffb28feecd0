// Who may manage a group (docs/API.md): its owner, the app admin, or the app admin
// acting for that group (header group_id).
import type { Caller } from "../auth/identity";
import type { Database } from "../db/client";
import { findGroup, type GroupInfo } from "../db/groups";
import { forbidden, notFound } from "../http/envelope";

/** The group, if it exists and is not destroyed. */
export async function liveGroup(db: Database, appId: number, groupId: number): Promise<GroupInfo> {
	const group = await findGroup(db, appId, groupId);
	if (!group || group.destroyed) throw notFound(`Group ${groupId} does not exist.`);
	return group;
}

export const isAdminOf = (caller: Caller, groupId: number) =>
	caller.kind === "admin" || (caller.kind === "groupAdmin" && caller.groupId === groupId);

/** The group, if `caller` may invite, kick and destroy in it. */
export async function managedGroup(db: Database, appId: number, caller: Caller, groupId: number): Promise<GroupInfo> {
	const group = await liveGroup(db, appId, groupId);
	if (isAdminOf(caller, groupId) || (caller.kind === "user" && caller.userId === group.owner_id)) return group;
	throw forbidden(`Only the owner of group ${groupId} or an admin may do this.`);
}

export function groupJson(g: GroupInfo) {
	const { destroyed: _, ...info } = g;
	return info;
}
