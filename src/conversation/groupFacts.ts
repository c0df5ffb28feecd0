// What a group's object knows of its group between writes (docs/API.md): whether it was
// destroyed, and whether each sender it has checked is a member. After creation the
// object is the group's only writer of membership (invites, kicks, leaves and destroy run
// in its queue), so a fact stays true until the object changes it itself: a send into the
// group reads nothing but its own batch once the sender is known. A membership write that
// failed (it may have committed) forgets everything; so does an evicted object.
import type { GroupSendCheck } from "../db/groups";

/** Senders remembered per group at most; beyond, the memory starts over. */
const MAX_REMEMBERED = 10_000;

export class GroupFacts {
	#destroyed: boolean | null = null;
	readonly #member = new Map<number, boolean>();

	/** The check for `senders` from memory, or null if any of it is unknown (ask D1). */
	known(senders: number[]): GroupSendCheck | null {
		if (this.#destroyed === null || senders.some((s) => !this.#member.has(s))) return null;
		return { exists: true, destroyed: this.#destroyed, members: new Set(senders.filter((s) => this.#member.get(s))) };
	}

	/** What D1 answered for `senders`. */
	learn(check: GroupSendCheck, senders: number[]): void {
		if (!check.exists) {
			this.forget();
			return;
		}
		if (this.#member.size + senders.length > MAX_REMEMBERED) this.#member.clear();
		this.#destroyed = check.destroyed;
		for (const s of senders) this.#member.set(s, check.members.has(s));
	}

	joined(userIds: number[]): void {
		for (const u of userIds) if (this.#member.has(u)) this.#member.set(u, true);
	}

	removed(userIds: number[]): void {
		for (const u of userIds) if (this.#member.has(u)) this.#member.set(u, false);
	}

	destroyed(): void {
		if (this.#destroyed !== null) this.#destroyed = true;
		for (const u of this.#member.keys()) this.#member.set(u, false);
	}

	forget(): void {
		this.#destroyed = null;
		this.#member.clear();
	}
}
