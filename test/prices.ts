// Cloudflare's list prices for what this service uses (Workers Paid), in US$
// per million units, as docs/COSTS.md gives them with their sources. The
// cost tests and `npm run bench:cost` price counted units with them.
import type { Units } from "./meter";

export const PRICE_PER_MILLION: Record<keyof Units, number> = {
	workerRequests: 0.3,
	d1RowsRead: 0.001,
	d1RowsWritten: 1.0,
	objectCalls: 0.15,
	// A SQLite-backed object's storage rows are priced as D1's.
	objectRowsRead: 0.001,
	objectRowsWritten: 1.0,
	kvReads: 0.5,
	kvWrites: 5.0,
};

/** What the units cost, in US$ per million times they happen (so: $ per million operations). */
export function dollarsPerMillion(units: Units): number {
	let total = 0;
	for (const [unit, price] of Object.entries(PRICE_PER_MILLION) as [keyof Units, number][]) total += units[unit] * price;
	return Math.round(total * 1000) / 1000;
}

/** Units added together (an operation made of several requests, e.g. a message's life). */
export function sum(...all: Units[]): Units {
	const out = { ...(all[0] as Units) };
	for (const units of all.slice(1)) for (const key of Object.keys(out) as (keyof Units)[]) out[key] += units[key];
	return out;
}
