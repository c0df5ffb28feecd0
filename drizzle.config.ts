import { defineConfig } from "drizzle-kit";

// Generates flat SQL migrations (migrations/NNNN_name.sql) from the schema;
// wrangler applies them (`wrangler d1 migrations apply`) and so do the tests.
export default defineConfig({
	dialect: "sqlite",
	schema: "./src/db/schema.ts",
	out: "./migrations",
});
