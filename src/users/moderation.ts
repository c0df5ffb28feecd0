// Moderation (docs/API.md, "Moderation"): a disabled or deleted user's
// channels end at once; their tokens stop working within USER_TTL_MS in every
// isolate (db/memo.ts), at once in this one.
import { forgetUsers } from "../db/memo";
import { unavailable } from "../http/envelope";
import { userChannels } from "../realtime/push";

/** Ends every open channel of `users` (4003), in parallel. A failure is 503: the call that asked is safe to repeat. */
export async function endChannelsOf(env: Env, appId: number, users: number[]): Promise<void> {
	forgetUsers(appId, users);
	try {
		await Promise.all(users.map((userId) => userChannels(env, appId, userId).endAll()));
	} catch (error) {
		console.error(JSON.stringify({ at: "endChannelsOf", appId, dependency: "Durable Object", error: String(error) }));
		throw unavailable("A user's live channels could not be closed; retry the request.");
	}
}
