// Replica reads (D1 Sessions API; docs/API.md "Conventions", bookmarks). A request runs its
// queries in one session on its app's database: from the bookmark the client
// presents (header x-d1-bookmark: any copy of the database at least that new
// may serve the reads), or without one from the primary, so that a client that
// knows nothing of bookmarks still reads every earlier write (docs/API.md "Conventions"). Every
// answer carries the newest bookmark the request reached, its own queries'
// or a conversation object's write, for the client to present next time.
// A read without a bookmark needs no session: the binding itself queries the
// primary, and a session costs a read a fifth of its throughput in
// `wrangler dev` (bench/NOTES.md, "Reads at the floor").
import { drizzle } from "drizzle-orm/d1";
import { type Database, database } from "./client";

export const BOOKMARK_HEADER = "x-d1-bookmark";

/** D1's bookmarks: fixed-width hex fields, so a later one sorts after an earlier one as a string. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
export const isBookmark = (value: string): boolean => BOOKMARK.test(value);

export class AppSession {
	readonly db: Database;
	readonly #session: D1DatabaseSession | null;
	#seen: string | null = null;

	/**
	 * `bookmark` null: start at the primary. `sessionless`: the caller only
	 * reads, with no bookmark to follow: the binding's own queries (the primary),
	 * and the answer carries only the bookmarks of writes made elsewhere.
	 */
	constructor(d1: D1Database, bookmark: string | null, { sessionless = false } = {}) {
		this.#session = sessionless && bookmark === null ? null : d1.withSession(bookmark ?? "first-primary");
		this.db = this.#session ? (drizzle(this.#session as unknown as D1Database) as Database) : database(d1);
	}

	/** A write made elsewhere on the same database (a conversation's object) committed at `bookmark`. */
	saw(bookmark: string | null | undefined): void {
		if (bookmark && (this.#seen === null || bookmark > this.#seen)) this.#seen = bookmark;
	}

	/** The newest bookmark: this session's own, or a write it saw. */
	bookmark(): string | null {
		const own = this.#session?.getBookmark() ?? null;
		return own === null ? this.#seen : this.#seen === null || own > this.#seen ? own : this.#seen;
	}
}
