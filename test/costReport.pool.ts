// `npm run bench:cost` (bench/cost.mjs): every operation of the cost table at
// full size, measured in the units Cloudflare bills, printed as one line for
// the runner to render. Not part of `npm test` (test/billing.test.ts holds the
// bounds there, on the same scenarios).
import { expect, it } from "vitest";
import { measureOperations } from "./costScenarios";
import { dollarsPerMillion, PRICE_PER_MILLION, sum } from "./prices";

it("measures every operation of the cost table", async () => {
	const measured = await measureOperations({ groupSizes: [10, 100, 1000], listSizes: [10, 200], backlogSize: 10_000 });
	const lifeOf = (suffix: string) =>
		sum(
			measured[`1:1 send, later message${suffix}`] as never,
			measured[`history read that delivers${suffix}`] as never,
			measured["unread list, 10 conversations"] as never,
			measured.ack as never,
		);
	const rows = {
		...measured,
		"a 1:1 message's life: send, history read that delivers, unread list of 10, ack": lifeOf(""),
		"the same, callbacks on": lifeOf(", callbacks on"),
	};
	const report = Object.entries(rows).map(([operation, units]) => ({ operation, units, dollarsPerMillion: dollarsPerMillion(units) }));
	console.log(`COSTREPORT ${JSON.stringify({ prices: PRICE_PER_MILLION, report })}`);
	expect(report.length).toBeGreaterThan(20);
}, 900_000);
