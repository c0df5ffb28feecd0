import { sha256Hex } from "../sha256";

// App admin tokens: 256-bit random secrets made by the operator CLI
// (scripts/app-create.mjs), given out once, stored as SHA-256.
// A fast hash is enough for a secret of that entropy (no dictionary to attack);
// the comparison is constant-time over equal-length digests.

export const hashAdminToken = (token: string): Promise<string> => sha256Hex(token);

export async function adminTokenMatches(token: string, storedHash: string): Promise<boolean> {
	const actual = new TextEncoder().encode(await hashAdminToken(token));
	const expected = new TextEncoder().encode(storedHash);
	return actual.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(actual, expected);
}
