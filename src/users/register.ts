// Registering users (docs/API.md): validation of a username/password pair, slow
// hashing, and one atomic insert for the whole list.
import { z } from "zod";
import { hashPassword } from "../auth/passwords";
import { type Database, isUniqueViolation } from "../db/client";
import { insertUsers, takenUsernames } from "../db/users";
import { codePointLength, hasUnsafeNameCharacter, NAME_PATTERN, UNSAFE_NAME_RULE } from "../http/validate";
import { MAX_PASSWORD, MAX_USERNAME, MIN_PASSWORD } from "../limits";

export const username = z
	.string({ error: "must be a string" })
	.refine((s) => s.trim() === s && codePointLength(s) >= 1 && codePointLength(s) <= MAX_USERNAME, {
		message: `must be 1 to ${MAX_USERNAME} characters without leading or trailing spaces`,
	})
	.refine((s) => !hasUnsafeNameCharacter(s), { message: UNSAFE_NAME_RULE })
	.meta({
		minLength: 1,
		maxLength: MAX_USERNAME,
		pattern: NAME_PATTERN,
		description: "Unique in the app; no leading or trailing spaces, no control or bidirectional control characters.",
	});
export const password = z
	.string({ error: "must be a string" })
	.refine((s) => codePointLength(s) >= MIN_PASSWORD && codePointLength(s) <= MAX_PASSWORD, {
		message: `must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`,
	})
	.meta({ minLength: MIN_PASSWORD, maxLength: MAX_PASSWORD });

export type RegistrationResult =
	| { success: true; user_id: number; username: string; reason: "" }
	| { success: false; user_id: 0; username: string; reason: string };

/**
 * Registers `list` in order. Usernames already taken (or repeated in the list)
 * fail individually; the rest are inserted in one batch. A username taken by a
 * concurrent request between the check and the insert fails the batch, and the
 * survivors are then inserted one by one so each gets its own answer.
 */
export async function registerUsers(
	db: Database,
	appId: number,
	list: { username: string; password: string }[],
	iterations: number,
	nowMs: number,
): Promise<RegistrationResult[]> {
	const taken = await takenUsernames(
		db,
		appId,
		list.map((u) => u.username),
	);
	const seen = new Set<string>();
	const results: RegistrationResult[] = list.map(({ username }) => {
		const reason = taken.has(username) ? "username is taken" : seen.has(username) ? "username is repeated in the list" : "";
		seen.add(username);
		return reason ? { success: false, user_id: 0, username, reason } : { success: true, user_id: 0, username, reason: "" };
	});
	const fresh = list.flatMap((user, i) => (results[i]?.success ? [{ index: i, user }] : []));
	const hashed = await Promise.all(
		fresh.map(async ({ index, user }) => ({ index, username: user.username, passwordHash: await hashPassword(user.password, iterations) })),
	);
	const record = (index: number, userId: number) => {
		const r = results[index];
		if (r) results[index] = { success: true, user_id: userId, username: r.username, reason: "" };
	};
	try {
		const ids = await insertUsers(db, appId, hashed, nowMs);
		for (const [i, h] of hashed.entries()) record(h.index, ids[i] ?? 0);
	} catch (error) {
		if (!isUniqueViolation(error, "users")) throw error;
		for (const h of hashed) {
			try {
				const [userId] = await insertUsers(db, appId, [h], nowMs);
				record(h.index, userId ?? 0);
			} catch (inner) {
				if (!isUniqueViolation(inner, "users")) throw inner;
				results[h.index] = { success: false, user_id: 0, username: h.username, reason: "username is taken" };
			}
		}
	}
	return results;
}
