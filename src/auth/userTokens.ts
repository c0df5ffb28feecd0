// User tokens: HS256 JWTs signed with TOKEN_SIGNING_KEY, carrying the app, the
// user, the device serial number and the expiry. The algorithm is pinned on
// verification, and the app claim must match the app_id header.
import { jwtVerify, SignJWT } from "jose";

/** `appKey` is the app's key (SPEC §3: tokens carry the key as given). */
export type UserTokenClaims = { appKey: string; userId: number; deviceSn: number };

export async function issueUserToken(
	signingKey: string,
	claims: UserTokenClaims,
	ttlS: number,
	nowMs: number,
): Promise<{ token: string; expire: number }> {
	const expSeconds = Math.floor(nowMs / 1000) + ttlS;
	const expire = expSeconds * 1000;
	const token = await new SignJWT({ app: claims.appKey, dsn: claims.deviceSn })
		.setProtectedHeader({ alg: "HS256", typ: "JWT" })
		.setSubject(String(claims.userId))
		.setIssuedAt(Math.floor(nowMs / 1000))
		.setExpirationTime(expSeconds)
		.sign(await keyFor(signingKey));
	return { token, expire };
}

/** The claims of a valid, unexpired token; null for anything else. */
export async function verifyUserToken(signingKey: string, token: string): Promise<UserTokenClaims | null> {
	try {
		// exp is required (SPEC §3): a token that never expires is refused even when its signature is good.
		const { payload } = await jwtVerify(token, await keyFor(signingKey), { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] });
		const userId = Number(payload.sub);
		const { app, dsn } = payload;
		// Tokens made before app keys carry the app's number, which is its key since the migration.
		if (!Number.isSafeInteger(userId) || (typeof app !== "string" && typeof app !== "number") || typeof dsn !== "number") return null;
		return { appKey: String(app), userId, deviceSn: dsn };
	} catch {
		return null;
	}
}

/** A token-shaped string: three base64url parts. Anything else is tried as an admin token. */
export const looksLikeUserToken = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

const keys = new Map<string, Promise<CryptoKey>>();
/** The HMAC key, imported once per isolate. */
function keyFor(signingKey: string): Promise<CryptoKey> {
	if (signingKey.length < 32) throw new Error("TOKEN_SIGNING_KEY must be at least 32 characters");
	let key = keys.get(signingKey);
	if (!key) {
		key = crypto.subtle.importKey("raw", new TextEncoder().encode(signingKey), { name: "HMAC", hash: "SHA-256" }, false, [
			"sign",
			"verify",
		]);
		keys.set(signingKey, key);
	}
	return key;
}
