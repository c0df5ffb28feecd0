import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { buildPublic } from "./scripts/public-assets.mjs";

// wrangler.toml names public/ as the static assets folder: it must exist before the pool reads it.
await buildPublic();

export default defineConfig({
	plugins: [
		cloudflareTest(async () => ({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: {
				bindings: {
					TOKEN_SIGNING_KEY: "test-signing-key-0123456789abcdef0123456789",
					// Fewer PBKDF2 rounds keep tests fast; the hash format records the count.
					PASSWORD_HASH_ITERATIONS: "1000",
					// Callback receivers in tests listen on loopback (deployments refuse it, SPEC §6.1).
					CALLBACK_ALLOW_PRIVATE: "true",
					TEST_MIGRATIONS: await readD1Migrations("./migrations"),
				},
			},
		})),
	],
	test: {
		include: ["test/**/*.test.ts"],
		setupFiles: ["./test/setup.ts"],
		testTimeout: 30_000,
		hookTimeout: 30_000,
	},
});
