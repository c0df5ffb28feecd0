// How a failed D1 call is answered (docs/API.md, "503 or 500"): D1's words for
// a failure a retry can get past are 503 with Retry-After — a locked or busy
// database among them — and the rest are 500; over HTTP for sends, reads and
// group operations, with nothing half-written.
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { storageFailure } from "../src/db/client";
import { call, createApp, d1Sessions, registerUser, send, snapshot, type TestApp, userToken } from "./support";

afterEach(() => vi.restoreAllMocks());

/** D1's documented wordings of failures to retry ("Debug D1", list of D1_ERRORs), and SQLite's for a held database. */
const TRANSIENT = [
	"D1_ERROR: D1 DB reset because its code was updated.",
	"D1_ERROR: Internal error while starting up D1 DB storage caused object to be reset.",
	"D1_ERROR: Internal error in D1 DB storage caused object to be reset.",
	"D1_ERROR: D1 DB storage operation exceeded timeout which caused object to be reset.",
	"D1_ERROR: Network connection lost.",
	"D1_ERROR: Cannot resolve D1 DB due to transient issue on remote node.",
	"D1_ERROR: Can't read from request stream because client disconnected.",
	"D1_ERROR: D1 DB is overloaded. Requests queued for too long.",
	"D1_ERROR: D1 DB is overloaded. Too many requests queued.",
	"D1_ERROR: D1 DB's isolate exceeded its memory limit and was reset.",
	"D1_ERROR: D1 DB exceeded its CPU time limit and was reset.",
	"D1_ERROR: database is locked: SQLITE_BUSY",
	"database is locked: SQLITE_BUSY",
	"SQLITE_BUSY: database is locked",
	"D1_ERROR: database table is locked: SQLITE_LOCKED",
	// What local D1 answers while another process holds the file (test/e2e/locked.e2e.ts): the runtime's internal error.
	"internal error; reference = g0oterco31p9kcek418i0ihv",
	"D1_ERROR: Failed to get session commit token: internal error; reference = 546aocfq94agj4n5n72fmuc0",
];

const PERMANENT = [
	"D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'",
	"D1_COLUMN_NOTFOUND: no such column: nope",
	'D1_EXEC_ERROR: Error in line 1: INSERTZ INTO t: sql error: near "INSERTZ": syntax error',
	"D1_ERROR: UNIQUE constraint failed: users.app_id, users.username: SQLITE_CONSTRAINT",
	"D1_ERROR: no such table: messages: SQLITE_ERROR",
	// Unknown words: not shown to be transient, so not disguised as one.
	"D1_ERROR: something nobody has seen before",
];

describe("which D1 failures are worth a retry", () => {
	it.each(TRANSIENT)("%s → retryable (503)", (message) => {
		expect(storageFailure(new Error(message))).toMatchObject({ retryable: true });
	});

	it.each(PERMANENT)("%s → not retryable (500)", (message) => {
		expect(storageFailure(new Error(message))).toMatchObject({ retryable: false });
	});

	it("an error that is not D1's is not a storage failure at all", () => {
		expect(storageFailure(new TypeError("x is undefined"))).toBeNull();
	});
});

describe("a locked database over HTTP: 503 with Retry-After for sends, reads and group operations, nothing half-written", () => {
	let app: TestApp;
	let alice: number;
	let bob: number;
	let aliceToken: string;
	let carol: number;
	let group: number;

	beforeAll(async () => {
		app = await createApp();
		[alice, bob, carol] = [await registerUser(app), await registerUser(app), await registerUser(app)];
		aliceToken = await userToken(app, alice);
		group = (await call("/group/create", { app, token: aliceToken, body: { user_list: [bob] } })).body.data.group_id;
		// The Worker remembers who is a user or a group, so the locked requests below reach the conversations' objects.
		await send(app, aliceToken, { targets: [bob], content: "before" });
		await send(app, aliceToken, { targets: [carol], content: "before" });
		await send(app, aliceToken, { type: 2, targets: [group], content: "before" });
	});

	/** Every D1 call fails as a database held by another writer does. */
	function lockDatabase() {
		const locked = () => Promise.reject(new Error("D1_ERROR: database is locked: SQLITE_BUSY"));
		vi.spyOn(d1Sessions, "batch").mockImplementation(locked);
		const statement = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as D1PreparedStatement;
		for (const method of ["all", "run", "first", "raw"] as const) vi.spyOn(statement, method).mockImplementation(locked);
	}

	it.each([
		["a send (through the conversation's object)", () => send(app, aliceToken, { targets: [bob], content: "while locked" })],
		["a group send", () => send(app, aliceToken, { type: 2, targets: [group], content: "while locked" })],
		["a history read (the Worker)", () => call("/message/conversation", { app, token: aliceToken, query: { opposite_id: bob } })],
		["the unread list", () => call("/message/unread", { app, token: aliceToken })],
		["a group invite", () => call("/group/invite", { app, token: aliceToken, body: { group_id: group, user_list: [carol] } })],
		["a group create", () => call("/group/create", { app, token: aliceToken, body: { name: "while locked" } })],
		["an ack", () => call("/message/ack", { app, token: aliceToken, query: { conversation_id: bob } })],
	])("%s: 503 + Retry-After, and nothing changed", async (_, request) => {
		const before = await snapshot();
		lockDatabase();
		const reply = await request();
		vi.restoreAllMocks();
		expect(reply.status).toBe(503);
		expect(reply.headers.get("retry-after")).toBe("1");
		expect(reply.body.code).toBe(503);
		expect(JSON.stringify(reply.body)).not.toContain("SQLITE_BUSY");
		expect(await snapshot()).toBe(before);
	});
});
