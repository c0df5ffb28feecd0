import type { TestProject } from "vitest/node";
// @ts-expect-error: a plain ESM script shared with the benchmark
import { createApp, startDevServer } from "../../scripts/devServer.mjs";

declare module "vitest" {
	export interface ProvidedContext {
		baseUrl: string;
		devAdminToken: string;
		secondApp: { app_id: string; admin_token: string };
		stateDir: string;
	}
}

/** Starts the dev server once for the suite; the returned teardown runs even when tests fail. */
export default async function setup(project: TestProject) {
	const server = await startDevServer({ adminToken: "e2e-admin-token" });
	try {
		project.provide("baseUrl", server.url);
		project.provide("devAdminToken", server.adminToken);
		// An app that moved from the source service keeps its string AppID.
		project.provide("secondApp", await createApp(server, "e2e second app", ["--app", "welovemaxim"]));
		project.provide("stateDir", server.stateDir);
	} catch (error) {
		await server.stop();
		throw error;
	}
	return () => server.stop();
}
