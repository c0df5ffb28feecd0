// Slow salted password hashing with PBKDF2-SHA256 from WebCrypto (docs/API.md).
// Stored as "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" so the cost can be
// raised later without invalidating existing hashes.

import { MAX_PASSWORD_ITERATIONS as MAX_ITERATIONS } from "../limits";

const KEY_BITS = 256;

export async function hashPassword(password: string, iterations: number): Promise<string> {
	const rounds = Math.min(Math.max(1, Math.floor(iterations)), MAX_ITERATIONS);
	const salt = crypto.getRandomValues(new Uint8Array(16));
	const hash = await derive(password, salt, rounds);
	return `pbkdf2-sha256$${rounds}$${toBase64(salt)}$${toBase64(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const [scheme, rounds, salt, hash] = stored.split("$");
	if (scheme !== "pbkdf2-sha256" || !rounds || !salt || !hash) return false;
	const expected = fromBase64(hash);
	const actual = await derive(password, fromBase64(salt), Number(rounds));
	return expected.byteLength === actual.byteLength && crypto.subtle.timingSafeEqual(expected, actual);
}

/** Spends the same time as a real check, so an unknown user is not told apart by timing. */
export async function burnPasswordCheck(password: string, iterations: number): Promise<void> {
	await derive(password, new Uint8Array(16), Math.min(iterations, MAX_ITERATIONS));
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
	const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, KEY_BITS);
	return new Uint8Array(bits);
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
