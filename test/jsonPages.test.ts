// History pages and the unread list come back from D1 as one JSON array built
// by SQLite (src/db/messages.ts, conversationState.ts). SQLite does not promise
// an aggregate's order, so the service sorts each page itself: fed a page in
// another order, it still answers in the API's order.
import { describe, expect, it } from "vitest";
import type { Database } from "../src/db/client";
import { unreadList } from "../src/db/conversationState";
import { historyPage } from "../src/db/messages";

/** A database whose every query answers `row`. */
const answering = (row: Record<string, unknown>) => ({ all: async () => [row] }) as unknown as Database;

/** A page entry (PageEntry in src/db/messages.ts) with a value of its own in every column, so a swapped column shows. */
const entry = (id: number) => [
	id,
	2,
	5,
	`m${id}`,
	`a${id}`,
	`c${id}`,
	`e${id}`,
	7,
	3,
	8,
	1_000 + id,
	id === 9 ? 1 : 0,
	id === 9 ? "r9" : null,
	id === 9 ? 1 : 0,
];

describe("pages read as one JSON row", () => {
	it("a history page is newest first whatever order the aggregate gave", async () => {
		const db = answering({
			has_side: 1,
			my_read: 2,
			peer_read: 0,
			my_delivered: 3,
			peer_delivered: 0,
			page: JSON.stringify([2, 9, 4, 7].map(entry)),
		});
		const page = await historyPage(db, 1, "p:7:8", 8, 7, 0, 20);
		expect(page.rows.map((r) => r.id)).toEqual([9, 7, 4, 2]);
		expect(page.rows[0]).toEqual({
			id: 9,
			appId: 1,
			conversationKey: "p:7:8",
			type: 2,
			contentType: 5,
			content: "m9",
			attachment: "a9",
			config: "c9",
			ext: "e9",
			fromUid: 7,
			fromDeviceSn: 3,
			toUid: 8,
			timestamp: 1_009,
			recalled: true,
			recalledBy: "r9",
			isSystem: true,
		});
		expect(page.rows[1]).toMatchObject({ id: 7, recalled: false, recalledBy: null, isSystem: false });
		expect(page).toMatchObject({ hasSide: true, myRead: 2, myDelivered: 3 });
	});

	it("the unread list is most recent activity first, ties by conversation key descending", async () => {
		const entries = [
			[5, 1, 0, 10, 100, "p:1:5"],
			[9, 2, 3, 30, 300, "g:9"],
			[6, 1, 1, 10, 100, "p:1:6"],
			[4, 1, 0, 20, 200, "p:1:4"],
		];
		const list = await unreadList(answering({ entries: JSON.stringify(entries) }), 1, 1, null, 10);
		expect(list.map((e) => e.conversationKey)).toEqual(["g:9", "p:1:4", "p:1:6", "p:1:5"]);
		expect(list[0]).toEqual({ peerId: 9, type: 2, unreadCount: 3, lastMsgId: 30, lastTimestamp: 300, conversationKey: "g:9" });
	});

	it("an empty page ('[]': the aggregate skipped the one row without a message) is no rows, with the context kept", async () => {
		const db = answering({ has_side: 0, my_read: 0, peer_read: 4, my_delivered: 0, peer_delivered: 5, page: "[]" });
		expect(await historyPage(db, 1, "p:7:8", 8, 7, 0, 20)).toEqual({
			rows: [],
			hasSide: false,
			myRead: 0,
			peerRead: 4,
			myDelivered: 0,
			peerDelivered: 5,
		});
	});
});
