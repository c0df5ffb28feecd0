// What one callback POST carries (docs/API.md "Message callbacks"): the source service's body, with
// its ids as decimal strings, and both signatures.
import type { DueCallback } from "../db/callbacks";
import { ctypeName } from "../protocol";

/**
 * The JSON body of a callback, as the source service sends it. A callback
 * about a message recalled since it was owed carries the tombstone: content,
 * ext, config and attachment "", and `recalled: true` (the one field the
 * source does not send, present only then).
 */
export function callbackBody(c: DueCallback, appKey: string): string {
	const gone = c.recalled;
	return JSON.stringify({
		appId: appKey,
		msgId: String(c.msgId),
		from: { uid: String(c.fromUid), device_sn: c.fromDeviceSn },
		to: { uid: String(c.toUid) },
		type: c.event,
		ctype: ctypeName(c.contentType),
		content: gone ? "" : c.content,
		ext: gone ? "" : c.ext,
		config: gone ? "" : c.config,
		attachment: gone ? "" : c.attachment,
		timestamp: c.timestamp,
		is_system: c.isSystem,
		related_mid: String(c.relatedMid),
		...(gone ? { recalled: true } : {}),
	});
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** `x-signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the secret. */
export async function hmacSignature(secret: string, body: string, unixSeconds: number): Promise<string> {
	const encoder = new TextEncoder();
	const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${unixSeconds}.${body}`));
	return `t=${unixSeconds},v1=${hex(mac)}`;
}
