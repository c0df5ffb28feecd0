// The unread list is exact by its definition (docs/API.md, "Unread count"),
// whatever the bookkeeping: after random sends, acks, recalls, joins, kicks,
// leaves and deletes — several at once in each step — every user's list equals
// the definition computed naively in SQL over the stored messages and sides.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, createApp, registerUser, type TestApp } from "./support";

type Expected = { uid: number; type: number; num: number; last_msg_id: number };

/**
 * The definition, naively: for each side, the messages newer than the read
 * position and the clear point, up to a removal, not the user's own, not
 * recalled; listed unless deleted with no such newer message; its last
 * message the newest it can see (or its join, before any). Reads every
 * message of every conversation: only for the test.
 */
async function byDefinition(app: TestApp, userId: number): Promise<Expected[]> {
	const rows = await env.DB.prepare(`
		SELECT m.peer_id AS uid, m.type,
			(SELECT count(*) FROM messages AS x WHERE x.app_id = m.app_id AND x.conversation_key = m.conversation_key
				AND x.id > max(m.read_position, m.clear_point) AND x.id <= coalesce(m.left_at, 9007199254740991)
				AND x.from_uid != m.user_id AND x.recalled = 0) AS num,
			max(m.last_msg_id, coalesce((SELECT max(x.id) FROM messages AS x WHERE x.app_id = m.app_id AND x.conversation_key = m.conversation_key
				AND x.id <= coalesce(m.left_at, 9007199254740991)), 0)) AS last_msg_id,
			m.deleted, m.clear_point, m.conversation_key
		FROM conversation_members AS m WHERE m.app_id = ? AND m.user_id = ?`)
		.bind(app.appId, userId)
		.all<Expected & { deleted: number; clear_point: number; conversation_key: string }>();
	return rows.results
		.filter((r) => r.deleted === 0 || r.last_msg_id > r.clear_point)
		.sort((a, b) => b.last_msg_id - a.last_msg_id || (a.conversation_key < b.conversation_key ? 1 : -1))
		.map(({ uid, type, num, last_msg_id }) => ({ uid, type, num, last_msg_id }));
}

async function listed(app: TestApp, userId: number): Promise<Expected[]> {
	const reply = await call("/message/unread", { app, headers: { user_id: String(userId) }, query: { limit: 500 } });
	expect(reply.status).toBe(200);
	return reply.body.data.map((e: any) => ({ uid: e.conversation_id.uid, type: e.type, num: e.num, last_msg_id: e.last_msg_id }));
}

type Op =
	| { kind: "send"; from: number; to: number }
	| { kind: "groupSend"; from: number }
	| { kind: "ack"; user: number; pick: number; group: boolean }
	| { kind: "recall"; pick: number }
	| { kind: "invite"; user: number }
	| { kind: "kick"; user: number }
	| { kind: "leave"; user: number }
	| { kind: "delete"; user: number; group: boolean };

const USERS = 4;
const user = fc.integer({ min: 0, max: USERS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
	{ weight: 4, arbitrary: fc.record({ kind: fc.constant("send" as const), from: user, to: user }) },
	{ weight: 4, arbitrary: fc.record({ kind: fc.constant("groupSend" as const), from: user }) },
	{ weight: 3, arbitrary: fc.record({ kind: fc.constant("ack" as const), user, pick: fc.nat(), group: fc.boolean() }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant("recall" as const), pick: fc.nat() }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant("invite" as const), user }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("kick" as const), user }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), user }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), user, group: fc.boolean() }) },
);

describe("unread counts by their definition", () => {
	it("after random steps of concurrent sends, acks, recalls, joins, kicks, leaves and deletes, every user's list equals the definition computed in SQL", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 5, maxLength: 15 }), async (steps) => {
				const app = await createApp();
				const users: number[] = [];
				for (let i = 0; i < USERS; i++) users.push(await registerUser(app));
				const as = (i: number) => ({ user_id: String(users[i]) });
				const group = (await call("/group/create", { app, headers: as(0), body: { user_list: [users[1], users[2]] } })).body.data
					.group_id as number;
				const sent: { id: number; group: boolean; from: number; to: number }[] = [];
				for (const step of steps) {
					await Promise.all(
						step.map(async (o) => {
							if (o.kind === "send" && o.from !== o.to) {
								const r = await call("/message/send", {
									app,
									headers: as(o.from),
									body: { type: 1, targets: [users[o.to]], content_type: 0, content: "x" },
								});
								if (r.status === 200) sent.push({ id: r.body.msg_ids[0], group: false, from: o.from, to: o.to });
							} else if (o.kind === "groupSend") {
								const r = await call("/message/send", {
									app,
									headers: as(o.from),
									body: { type: 2, targets: [group], content_type: 0, content: "x" },
								});
								if (r.status === 200) sent.push({ id: r.body.msg_ids[0], group: true, from: o.from, to: -1 });
							} else if (o.kind === "ack") {
								const mine = sent.filter((m) => m.group === o.group && (m.group || m.from === o.user || m.to === o.user));
								const m = mine[o.pick % Math.max(mine.length, 1)];
								if (m) {
									const peer = m.group ? group : (users[m.from === o.user ? m.to : m.from] as number);
									await call("/message/ack", { app, headers: as(o.user), query: { conversation_id: peer, msg_id: m.id } });
								}
							} else if (o.kind === "recall") {
								const m = sent[o.pick % Math.max(sent.length, 1)];
								if (m) await call("/message/recall", { app, body: { conversation_id: m.group ? group : users[m.from], msg_id: m.id } });
							} else if (o.kind === "invite") {
								await call("/group/invite", { app, body: { group_id: group, user_list: [users[o.user]] } });
							} else if (o.kind === "kick" && o.user !== 0) {
								await call("/group/kick", { app, body: { group_id: group, user_list: [users[o.user]] } });
							} else if (o.kind === "leave" && o.user !== 0) {
								await call("/group/leave", { app, method: "POST", headers: as(o.user), query: { group_id: group } });
							} else if (o.kind === "delete") {
								const peer = o.group ? group : (users[(o.user + 1) % USERS] as number);
								await call("/message/conversation", { app, method: "DELETE", headers: as(o.user), query: { conversation_id: peer } });
							}
						}),
					);
					for (const u of users) expect(await listed(app, u), `user ${u}`).toEqual(await byDefinition(app, u));
				}
			}),
			{ numRuns: 15 },
		);
	}, 240_000);
});
