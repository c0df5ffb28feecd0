// Existing databases convert (migrations/0009_derived_unread.sql): data written
// at the previous schema — a per-member unread counter, kept up to date by
// every message — reads the same after the migrations as before: every unread
// list, and every history page with its statuses.
//
// The previous schema's writes are replayed here by a small simulator of what
// the previous code stored for each operation (send, group send, ack, recall,
// delete, join, leave), run on random operations; its rows are written into a
// database migrated only up to the previous schema, read there with the
// previous code's queries, migrated, and read through the API.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, createApp, type TestApp } from "./support";

/** The migrations up to the previous schema (0000-0008). */
const PREVIOUS = env.TEST_MIGRATIONS.filter((m) => Number(m.name.slice(0, 4)) <= 8);
const LATER = env.TEST_MIGRATIONS.filter((m) => Number(m.name.slice(0, 4)) > 8);

/** Empties DB_2 and migrates it to the previous schema. */
async function previousSchema() {
	const objects = await env.DB_2.prepare(
		"SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND type IN ('table', 'trigger')",
	).all<{ type: string; name: string }>();
	for (const o of objects.results) await env.DB_2.prepare(`DROP ${o.type.toUpperCase()} IF EXISTS "${o.name}"`).run();
	await applyD1Migrations(env.DB_2, PREVIOUS);
}

type Side = {
	user: number;
	key: string;
	type: 1 | 2;
	peer: number;
	read: number;
	readDevice: number;
	delivered: number;
	clear: number;
	unread: number;
	last: number;
	lastTs: number;
	deleted: boolean;
	left: number | null;
};
type Message = { id: number; key: string; type: 1 | 2; from: number; to: number; ts: number; recalled: boolean };

/** What the previous code stored, operation by operation (its SQL, in memory). */
class PreviousStore {
	messages: Message[] = [];
	sides = new Map<string, Side>();
	members = new Map<number, Set<number>>();
	nextId = 1;
	now = 1_700_000_000_000;

	side(user: number, key: string) {
		return this.sides.get(`${user}/${key}`);
	}
	newest(key: string) {
		return Math.max(0, ...this.messages.filter((m) => m.key === key).map((m) => m.id));
	}
	private upsert(user: number, key: string, type: 1 | 2, peer: number, change: Partial<Side>) {
		const side = this.side(user, key) ?? {
			user,
			key,
			type,
			peer,
			read: 0,
			readDevice: 0,
			delivered: 0,
			clear: 0,
			unread: 0,
			last: 0,
			lastTs: 0,
			deleted: false,
			left: null,
		};
		this.sides.set(`${user}/${key}`, { ...side, ...change });
	}
	/** The clock moves a second per operation. */
	private tick() {
		this.now += 1000;
		return this.now;
	}
	private append(key: string, type: 1 | 2, from: number, to: number) {
		const m = { id: this.nextId++, key, type, from, to, ts: this.tick(), recalled: false };
		this.messages.push(m);
		return m;
	}
	send(from: number, to: number) {
		const key = from < to ? `p:${from}:${to}` : `p:${to}:${from}`;
		const m = this.append(key, 1, from, to);
		this.upsert(from, key, 1, to, { read: m.id, readDevice: 0, unread: 0, last: m.id, lastTs: m.ts, deleted: false });
		const receiver = this.side(to, key);
		this.upsert(to, key, 1, from, { unread: (receiver?.unread ?? 0) + 1, last: m.id, lastTs: m.ts, deleted: false });
	}
	groupSend(from: number, group: number) {
		if (!this.members.get(group)?.has(from)) return;
		const key = `g:${group}`;
		const m = this.append(key, 2, from, group);
		for (const member of this.members.get(group) ?? []) {
			const side = this.side(member, key) as Side;
			if (member === from) Object.assign(side, { read: m.id, readDevice: 0, unread: 0, last: m.id, lastTs: m.ts, deleted: false });
			else Object.assign(side, { unread: side.unread + 1, last: m.id, lastTs: m.ts, deleted: false });
		}
	}
	/** /message/ack with msg_id (the previous code recounted unread by its definition). */
	ack(user: number, key: string, msgId: number) {
		const side = this.side(user, key);
		if (!side || (side.left !== null && msgId > side.left)) return;
		if (!this.messages.some((m) => m.id === msgId && m.key === key)) return;
		if (msgId > side.read) Object.assign(side, { read: msgId, readDevice: 3 });
		side.delivered = Math.max(side.delivered, msgId);
		side.unread = this.messages.filter(
			(m) =>
				m.key === key &&
				m.id > Math.max(side.read, side.clear) &&
				m.id <= (side.left ?? Number.MAX_SAFE_INTEGER) &&
				m.from !== user &&
				!m.recalled,
		).length;
	}
	recall(msgId: number) {
		const m = this.messages.find((x) => x.id === msgId);
		if (!m || m.recalled) return;
		m.recalled = true;
		for (const side of this.sides.values()) {
			if (side.key === m.key && side.read < m.id && side.clear < m.id && (side.left ?? m.id) >= m.id && side.user !== m.from) {
				side.unread = Math.max(side.unread - 1, 0);
			}
		}
	}
	remove(user: number, key: string) {
		const side = this.side(user, key);
		if (!side || side.deleted) return;
		Object.assign(side, { deleted: true, unread: 0, clear: this.newest(key) || side.clear });
	}
	join(user: number, group: number) {
		const members = this.members.get(group) ?? new Set<number>();
		this.members.set(group, members);
		if (members.has(user)) return;
		members.add(user);
		const key = `g:${group}`;
		const newest = this.newest(key);
		this.upsert(user, key, 2, group, {
			read: newest,
			clear: newest,
			unread: 0,
			last: newest,
			lastTs: this.tick(),
			deleted: false,
			left: null,
		});
	}
	leave(user: number, group: number) {
		const members = this.members.get(group);
		if (!members?.has(user)) return;
		members.delete(user);
		(this.side(user, `g:${group}`) as Side).left = this.newest(`g:${group}`);
	}
}

const q = (value: string | number | null) => (value === null ? "NULL" : typeof value === "number" ? String(value) : `'${value}'`);

/** Writes the simulator's rows into DB_2 at the previous schema. */
async function writePrevious(app: TestApp, store: PreviousStore, groups: number[]) {
	const statements: D1PreparedStatement[] = [];
	for (const g of groups) {
		statements.push(env.DB_2.prepare(`INSERT INTO accounts (id, app_id, kind) VALUES (${g}, ${app.appId}, 'group')`));
		statements.push(
			env.DB_2.prepare(
				`INSERT INTO groups (id, app_id, name, description, avatar, owner_id, created_at) VALUES (${g}, ${app.appId}, 'g', '', '', 0, 0)`,
			),
		);
		for (const u of store.members.get(g) ?? []) {
			statements.push(
				env.DB_2.prepare(`INSERT INTO group_members (app_id, group_id, user_id, joined_at) VALUES (${app.appId}, ${g}, ${u}, 0)`),
			);
		}
	}
	for (const m of store.messages) {
		statements.push(
			env.DB_2.prepare(
				`INSERT INTO messages (id, app_id, conversation_key, type, content_type, content, attachment, config, ext, from_uid, from_device_sn, to_uid, timestamp, recalled, is_system)
				VALUES (${m.id}, ${app.appId}, '${m.key}', ${m.type}, 0, ${m.recalled ? "''" : `'m${m.id}'`}, '', '', '', ${m.from}, 0, ${m.to}, ${m.ts}, ${m.recalled ? 1 : 0}, 0)`,
			),
		);
	}
	for (const s of store.sides.values()) {
		statements.push(
			env.DB_2.prepare(
				`INSERT INTO conversation_members (app_id, user_id, conversation_key, type, peer_id, read_position, read_device_sn, delivered_position, clear_point, unread_count, last_msg_id, last_timestamp, deleted, left_at)
				VALUES (${app.appId}, ${s.user}, '${s.key}', ${s.type}, ${s.peer}, ${s.read}, ${s.readDevice}, ${s.delivered}, ${s.clear}, ${s.unread}, ${s.last}, ${s.lastTs}, ${s.deleted ? 1 : 0}, ${q(s.left)})`,
			),
		);
	}
	for (let i = 0; i < statements.length; i += 50) await env.DB_2.batch(statements.slice(i, i + 50));
}

/** The unread list as the previous code read it. */
async function previousList(app: TestApp, user: number) {
	const rows = await env.DB_2.prepare(
		`SELECT peer_id, type, unread_count, last_msg_id, last_timestamp FROM conversation_members
		WHERE app_id = ? AND user_id = ? AND deleted = 0 ORDER BY last_msg_id DESC, conversation_key DESC`,
	)
		.bind(app.appId, user)
		.all<{ peer_id: number; type: number; unread_count: number; last_msg_id: number; last_timestamp: number }>();
	return rows.results.map((r) => ({
		conversation_id: { uid: r.peer_id, device_sn: 0 },
		num: r.unread_count,
		type: r.type,
		last_msg_id: r.last_msg_id,
		last_timestamp: r.last_timestamp,
	}));
}

/** A history page's messages as the previous code read them: ids, recall and status from the reader's view. */
async function previousHistory(app: TestApp, user: number, key: string, peer: number) {
	const sides = await env.DB_2.prepare(
		"SELECT user_id, read_position, delivered_position, clear_point, left_at FROM conversation_members WHERE app_id = ? AND conversation_key = ?",
	)
		.bind(app.appId, key)
		.all<{ user_id: number; read_position: number; delivered_position: number; clear_point: number; left_at: number | null }>();
	const me = sides.results.find((s) => s.user_id === user);
	const other = sides.results.find((s) => s.user_id === peer);
	if (!me) return null;
	const messages = await env.DB_2.prepare(
		"SELECT id, type, from_uid, recalled FROM messages WHERE app_id = ? AND conversation_key = ? AND id > ? AND id <= ? ORDER BY id DESC",
	)
		.bind(app.appId, key, me.clear_point, me.left_at ?? Number.MAX_SAFE_INTEGER)
		.all<{ id: number; type: number; from_uid: number; recalled: number }>();
	return messages.results.map((m) => ({
		msg_id: m.id,
		recalled: m.recalled === 1,
		status:
			m.from_uid !== user
				? me.read_position >= m.id
					? "READ"
					: "DELIVERED"
				: m.type === 2
					? "DELIVERED"
					: (other?.read_position ?? 0) >= m.id
						? "READ"
						: (other?.delivered_position ?? 0) >= m.id
							? "DELIVERED"
							: "UNREAD",
	}));
}

async function apiHistory(app: TestApp, user: number, peer: number) {
	const out: { msg_id: number; recalled: boolean; status: string }[] = [];
	let start = 0;
	for (;;) {
		const page = await call("/message/conversation", {
			app,
			headers: { user_id: String(user) },
			query: { opposite_id: peer, msg_id_start: start, limit: 100 },
		});
		expect(page.status).toBe(200);
		out.push(...page.body.data.messages.map((m: any) => ({ msg_id: m.msg_id, recalled: m.recalled, status: m.status })));
		if (page.body.data.is_last) return out;
		start = page.body.data.next_msg_id;
	}
}

type Op =
	| { kind: "send"; from: number; to: number }
	| { kind: "groupSend"; from: number; group: number }
	| { kind: "ack"; user: number; pick: number }
	| { kind: "recall"; pick: number }
	| { kind: "delete"; user: number; pick: number }
	| { kind: "join"; user: number; group: number }
	| { kind: "leave"; user: number; group: number };

const USERS = 4;
const user = fc.integer({ min: 0, max: USERS - 1 });
const group = fc.integer({ min: 0, max: 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
	{ weight: 4, arbitrary: fc.record({ kind: fc.constant("send" as const), from: user, to: user }) },
	{ weight: 4, arbitrary: fc.record({ kind: fc.constant("groupSend" as const), from: user, group }) },
	{ weight: 3, arbitrary: fc.record({ kind: fc.constant("ack" as const), user, pick: fc.nat() }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("recall" as const), pick: fc.nat() }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), user, pick: fc.nat() }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant("join" as const), user, group }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), user, group }) },
);

describe("the migration to derived unread counts", () => {
	it("every unread list and every history page (statuses included) reads the same after the migrations as before them", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 80 }), async (ops) => {
				await previousSchema();
				const app = await createApp({ database: "DB_2" });
				const users: number[] = [];
				// Users as the previous schema stores them (today's registration writes columns added later).
				for (let i = 0; i < USERS; i++) {
					const account = await env.DB_2.prepare("INSERT INTO accounts (app_id, kind) VALUES (?, 'user') RETURNING id")
						.bind(app.appId)
						.first<{ id: number }>();
					const id = (account as { id: number }).id;
					await env.DB_2.prepare("INSERT INTO users (id, app_id, username, password_hash, created_at) VALUES (?, ?, ?, 'unused', 0)")
						.bind(id, app.appId, `mig-${i}`)
						.run();
					users.push(id);
				}
				const groups = [1000 + app.appId * 10, 1001 + app.appId * 10];
				const store = new PreviousStore();
				const keys = () => [...new Set(store.messages.map((m) => m.key))];
				for (const o of ops) {
					const u = (i: number) => users[i] as number;
					const g = (i: number) => groups[i] as number;
					if (o.kind === "send" && o.from !== o.to) store.send(u(o.from), u(o.to));
					if (o.kind === "groupSend") store.groupSend(u(o.from), g(o.group));
					if (o.kind === "join") store.join(u(o.user), g(o.group));
					if (o.kind === "leave") store.leave(u(o.user), g(o.group));
					if (o.kind === "recall" && store.messages.length > 0)
						store.recall((store.messages[o.pick % store.messages.length] as Message).id);
					if ((o.kind === "ack" || o.kind === "delete") && keys().length > 0) {
						const key = keys()[o.pick % keys().length] as string;
						if (o.kind === "delete") store.remove(u(o.user), key);
						else {
							const inKey = store.messages.filter((m) => m.key === key);
							store.ack(u(o.user), key, (inKey[o.pick % inKey.length] as Message).id);
						}
					}
				}
				await writePrevious(app, store, groups);

				// Before: the previous code's reads.
				const lists = new Map<number, unknown>();
				for (const x of users) lists.set(x, await previousList(app, x));

				await applyD1Migrations(env.DB_2, LATER);

				// After: the API.
				for (const x of users) {
					const after = await call("/message/unread", { app, headers: { user_id: String(x) }, query: { limit: 500 } });
					expect(after.body.data, `unread list of ${x}`).toEqual(lists.get(x));
				}
				// History: a read delivers (the peer's view changes), so each expectation is read just before its page.
				for (const side of store.sides.values()) {
					const peer = side.type === 1 ? side.peer : side.peer;
					const before = await previousHistory(app, side.user, side.key, side.type === 1 ? side.peer : -1);
					expect(await apiHistory(app, side.user, peer), `history of ${side.user} in ${side.key}`).toEqual(before);
				}
			}),
			{ numRuns: 12 },
		);
	}, 240_000);
});
