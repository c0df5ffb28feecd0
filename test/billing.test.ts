// What operations cost in billed units (docs/COSTS.md), measured through the
// public HTTP surface, against the bounds the service promises: a group
// message writes rows independent of the group's size, a later one-to-one
// text at most 12, an ack at most 4, reading a history page again none; the
// unread list reads rows in proportion to the conversations it lists, not to
// their unread messages; a history page at most twice its size plus a
// constant; and a message's life stays within its dollar budget.
import { beforeAll, describe, expect, it } from "vitest";
import { type Measured, measureOperations } from "./costScenarios";
import { dollarsPerMillion, sum } from "./prices";

let measured: Measured;
const of = (name: string) => {
	const units = measured[name];
	if (!units) throw new Error(`not measured: ${name}`);
	return units;
};

beforeAll(async () => {
	measured = await measureOperations({ groupSizes: [10, 1000], listSizes: [10, 200], backlogSize: 10_000 });
}, 600_000);

describe("billed rows written per operation", () => {
	it("a message into a group writes the same rows whatever the group's size: at most 16 for 1,000 members, callbacks on or off", () => {
		for (const suffix of ["", ", callbacks on"]) {
			const [small, big] = [of(`group send, 10 members${suffix}`), of(`group send, 1000 members${suffix}`)];
			expect(big.d1RowsWritten).toBe(small.d1RowsWritten);
			expect(big.d1RowsWritten + big.objectRowsWritten).toBeLessThanOrEqual(16);
		}
	});

	it("with 10 of 1,000 members online the rows written do not change, and there is one push per online member", () => {
		const [quiet, online] = [of("group send, 1000 members"), of("group send, 1000 members, 10 online")];
		expect(online.d1RowsWritten).toBe(quiet.d1RowsWritten);
		expect(online.objectCalls).toBe(quiet.objectCalls + 10);
	});

	it("a later one-to-one text writes at most 12 rows, callbacks on or off", () => {
		expect(of("1:1 send, later message").d1RowsWritten).toBeLessThanOrEqual(12);
		const hooked = of("1:1 send, later message, callbacks on");
		expect(hooked.d1RowsWritten + hooked.objectRowsWritten).toBeLessThanOrEqual(12);
	});

	it("an ack writes at most 4 rows; reading a history page again writes none", () => {
		expect(of("ack").d1RowsWritten).toBeLessThanOrEqual(4);
		expect(of("the same history read again").d1RowsWritten).toBe(0);
		expect(of("history read that delivers").d1RowsWritten).toBe(1); // the delivered position, once
	});
});

describe("billed rows read per operation", () => {
	it("the unread list reads rows in proportion to the conversations it lists, not to how many messages are unread in them", () => {
		const backlog = of("unread list, one conversation with 10,000 unread");
		expect(backlog.d1RowsRead).toBeLessThanOrEqual(10);
		const [ten, twoHundred] = [of("unread list, 10 conversations"), of("unread list, 200 conversations")];
		expect(twoHundred.d1RowsRead).toBeLessThanOrEqual(5 * 200 + 10);
		expect(twoHundred.d1RowsRead / 200).toBeLessThanOrEqual((ten.d1RowsRead / 10) * 1.5);
	});

	it("a history page reads at most twice its size plus a constant", () => {
		// The pages measured hold a few messages; test/history.test.ts checks pages of 20 and 100 over 2,001 messages.
		expect(of("the same history read again").d1RowsRead).toBeLessThanOrEqual(2 * 20 + 10);
	});
});

describe("what a message costs at list prices", () => {
	it("a one-to-one message's life — the send, the history read that delivers it, the unread list, the ack — costs at most $10 per million messages", () => {
		const life = sum(of("1:1 send, later message"), of("history read that delivers"), of("unread list, 10 conversations"), of("ack"));
		expect(dollarsPerMillion(life)).toBeLessThanOrEqual(10);
	});

	it("a message into a group of 1,000 (the send, pushes aside) costs at most $20 per million messages", () => {
		expect(dollarsPerMillion(of("group send, 1000 members"))).toBeLessThanOrEqual(20);
	});
});
