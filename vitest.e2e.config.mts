import { defineConfig } from "vitest/config";

// The end-to-end suite: plain Node, real HTTP against `npm run dev`
// (started and stopped by test/e2e/server.ts).
export default defineConfig({
	test: {
		include: ["test/e2e/**/*.e2e.ts"],
		globalSetup: ["./test/e2e/server.ts"],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		fileParallelism: false,
	},
});
