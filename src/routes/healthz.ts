import { z } from "zod";
import { endpoint } from "./contract";

/** No auth, no I/O: the floor every benchmark is compared against. */
export const healthz = endpoint({
	methods: ["GET"],
	path: "/healthz",
	tag: "Health",
	summary: "Health check",
	description: 'Answers `data: "ok"` without credentials and without touching any store.',
	access: "none",
	data: z.literal("ok"),
	handle: () => ({ data: "ok" as const }),
});
