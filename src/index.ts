// The Worker: the router built from the endpoint contracts (src/routes), the
// Cron Trigger (callback sweep and purge), and the Conversation Durable Object.
import { runSchedule } from "./apps/scheduled";
import { router } from "./routes";

export { Conversation } from "./conversation/Conversation";
export { RateLimiter } from "./rateLimits/RateLimiter";
export { UserChannels } from "./realtime/UserChannels";

export default {
	fetch: (request, env, ctx) => router.fetch(request, env, ctx),
	scheduled: async (_controller, env, ctx) => {
		ctx.waitUntil(runSchedule(env));
	},
} satisfies ExportedHandler<Env>;
