// Dead-lettered callbacks sent again (docs/API.md "Message callbacks"): back in their conversations'
// queues, then each conversation's drainer is woken. A wake-up that fails is
// made up by the scheduled sweep.
import { clock } from "../clock";
import { callConversation } from "../conversation/key";
import { requeueDead } from "../db/callbacks";
import type { Database } from "../db/client";

/** Conversations woken at once by one redelivery. */
const WAKE_PARALLEL = 20;

export async function redeliver(env: Env, db: Database, appId: number, which: { webhookIds: string[] } | { all: true }, requestId: string) {
	const { queued, conversationKeys } = await requeueDead(db, appId, which, clock.now());
	await wakeDrainers(env, appId, conversationKeys, requestId);
	return queued;
}

export async function wakeDrainers(env: Env, appId: number, conversationKeys: string[], requestId: string): Promise<void> {
	for (let i = 0; i < conversationKeys.length; i += WAKE_PARALLEL) {
		await Promise.all(
			conversationKeys
				.slice(i, i + WAKE_PARALLEL)
				.map((conversationKey) =>
					callConversation(env, appId, conversationKey, { requestId, at: "wakeDrainers" }, async (conversation) =>
						conversation.deliverCallbacks({ appId, conversationKey }),
					),
				),
		);
	}
}
