// Pushing a conversation's happenings to the users online in it (docs/API.md "Real-time delivery").
import type { Happening } from "./events";

/** The object that holds a user's channels. */
export const userChannels = (env: Env, appId: number, userId: number) => env.USER_CHANNELS.getByName(`${appId}/${userId}`);

/**
 * One per conversation object: pushes go out after the write has answered,
 * one after another, so every channel sees the conversation's events in commit
 * order; the users of one push are called in parallel. A failed push is logged
 * and skipped — it never fails or delays a write.
 */
export class Pusher {
	#tail: Promise<void> = Promise.resolve();

	constructor(private readonly env: Env) {}

	push(appId: number, users: number[], happenings: Happening[]): void {
		if (users.length === 0 || happenings.length === 0) return;
		this.#tail = this.#tail.then(async () => {
			await Promise.all(
				users.map((userId) =>
					userChannels(this.env, appId, userId)
						.deliver(happenings)
						.catch((error: unknown) =>
							console.error(JSON.stringify({ at: "Pusher.push", appId, userId, dependency: "Durable Object", error: String(error) })),
						),
				),
			);
		});
	}
}
