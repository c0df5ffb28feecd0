// User tokens: HS256 JWTs signed with TOKEN_SIGNING_KEY, carrying the app, the
// user, the device serial number and the expiry. The algorithm is pinned on
// verification, and the app claim must match the app_id header.
import { jwtVerify, SignJWT } from "jose";
import { clock } from "../clock";

/** `appKey` is the app's key (docs/API.md "Apps, credentials and who is acting": tokens carry the key as given). */
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

/** A verified token's claims and when it expires (ms since the epoch). */
export type VerifiedClaims = UserTokenClaims & { expiresMs: number };

/** The claims of a valid, unexpired token; null for anything else. */
export async function verifyUserToken(signingKey: string, token: string): Promise<VerifiedClaims | null> {
	const now = clock.now();
	const known = verified.get(token);
	if (known && known.signingKey === signingKey) {
		if (now < known.expiresMs) return known.claims;
		verified.delete(token);
		return null;
	}
	try {
		// exp is required (docs/API.md "Apps, credentials and who is acting"): a token that never expires is refused even when its signature is good.
		const { payload } = await jwtVerify(token, await keyFor(signingKey), {
			algorithms: ["HS256"],
			requiredClaims: ["exp", "sub"],
			currentDate: new Date(now),
		});
		const userId = Number(payload.sub);
		const { app, dsn, exp } = payload;
		// Tokens made before app keys carry the app's number, which is its key since the migration.
		if (!Number.isSafeInteger(userId) || (typeof app !== "string" && typeof app !== "number") || typeof dsn !== "number") return null;
		const claims = { appKey: String(app), userId, deviceSn: dsn, expiresMs: Number(exp) * 1000 };
		remember(token, { signingKey, claims, expiresMs: claims.expiresMs });
		return claims;
	} catch {
		return null;
	}
}

/**
 * Tokens this isolate has verified, until their exp. A user token is
 * stateless (nothing revokes it before exp), so a verdict stays true until
 * then, and a user's next requests skip the JWT parse and HMAC (~10 % of a
 * request's CPU here, bench/NOTES.md "Reads at the floor"). Bounded: the
 * oldest entry leaves first.
 */
const verified = new Map<string, { signingKey: string; claims: VerifiedClaims; expiresMs: number }>();
const MAX_VERIFIED = 10_000;

function remember(token: string, entry: { signingKey: string; claims: VerifiedClaims; expiresMs: number }): void {
	if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
	verified.set(token, entry);
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
