import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.mts";

// `npm run bench:cost` (bench/cost.mjs): the cost report, in the same pool and
// bindings as the tests, at the bench's full sizes.
export default mergeConfig(
	base,
	defineConfig({
		test: { include: ["test/costReport.pool.ts"], testTimeout: 900_000 },
	}),
);
