// The Worker: the router built from the endpoint contracts (src/routes), and the Conversation Durable Object.
import { router } from "./routes";

export { Conversation } from "./conversation/Conversation";

export default {
	fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
