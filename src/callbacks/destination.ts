// What a callback destination must be (docs/API.md, "Message callbacks"):
// checked when it is set (POST /app/settings, npm run app:settings) and
// again when a callback is delivered, so a URL or secret stored before a rule
// existed is not used against it. No imports: the operator scripts load this
// file as it is (Node strips its types).

export const MAX_CALLBACK_URL = 2048;
export const MIN_CALLBACK_SECRET = 16;
export const MAX_CALLBACK_SECRET = 256;

const octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const port = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";
const host = `(${octet}(\\.${octet}){3}|([A-Za-z0-9-]{1,63}\\.)*[A-Za-z][A-Za-z0-9-]{0,62})`;
/** What a callback URL looks like (a host name or an IPv4 address; no IPv6 literal, no user info); the URL parser has the last word. */
export const CALLBACK_URL_PATTERN = `^(|https?://${host}(:${port})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?)$`;
const urlPattern = new RegExp(CALLBACK_URL_PATTERN);

/** Why `text` is not a callback URL at all (null: it is one, or "" for none). */
export function callbackUrlProblem(text: string): string | null {
	if (text.length > MAX_CALLBACK_URL) return `must be at most ${MAX_CALLBACK_URL} characters`;
	if (text === "") return null;
	if (!urlPattern.test(text) || !isHttpUrl(text)) {
		return 'must be an http or https URL naming a host name or an IPv4 address (no user name or password), or "" for none';
	}
	return null;
}

function isHttpUrl(text: string): boolean {
	try {
		const url = new URL(text);
		return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" && url.username === "" && url.password === "";
	} catch {
		return false;
	}
}

/**
 * Why a deployment refuses this callback URL (null: it does not). Unless the
 * deployment allows them (local dev does): only https; no host in a private,
 * loopback, link-local, benchmarking, multicast or reserved range; no
 * single-label host name (`https://intranet/` resolves inside some network,
 * never on the public internet).
 */
export function callbackUrlRefusal(text: string, allowPrivate: boolean): string | null {
	if (text === "" || allowPrivate) return null;
	const url = new URL(text);
	if (url.protocol !== "https:") return "must be an https URL on this deployment";
	if (isPrivateHost(url.hostname)) {
		return "must not name a private, loopback, link-local, benchmarking, multicast or reserved address on this deployment";
	}
	if (!url.hostname.includes(".")) return "must name a host with a domain (a single-label name is local) on this deployment";
	return null;
}

export function isPrivateHost(hostname: string): boolean {
	const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
	if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
	const v4 = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
	if (v4) {
		const [a = 0, b = 0] = v4.slice(1, 3).map(Number);
		return (
			a === 0 ||
			a === 10 ||
			a === 127 ||
			(a === 100 && b >= 64 && b <= 127) ||
			(a === 169 && b === 254) ||
			(a === 172 && b >= 16 && b <= 31) ||
			(a === 192 && b === 168) ||
			(a === 198 && (b === 18 || b === 19)) || // benchmarking, 198.18.0.0/15
			a >= 224 // multicast 224.0.0.0/4, reserved 240.0.0.0/4, broadcast 255.255.255.255
		);
	}
	if (host.includes(":")) {
		if (host === "::" || host === "::1") return true;
		if (host.startsWith("::ffff:")) return true; // IPv4-mapped: refuse rather than parse
		return /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || /^ff/.test(host);
	}
	return false;
}

/**
 * Why `secret` cannot be a callback secret (null: it can; "" removes it). It
 * travels in the `signature` header, so printable ASCII only: a CR, LF, NUL,
 * space or non-ASCII character would be refused by the runtime (the callback
 * dead-letters) or reach the receiver changed.
 */
export function callbackSecretProblem(secret: string): string | null {
	if (secret === "") return null;
	if (!/^[!-~]*$/.test(secret)) {
		return "must be printable ASCII from ! to ~ (no space, control or non-ASCII character): it travels in a header";
	}
	if (secret.length < MIN_CALLBACK_SECRET || secret.length > MAX_CALLBACK_SECRET) {
		return `must be ${MIN_CALLBACK_SECRET} to ${MAX_CALLBACK_SECRET} characters, or "" to remove it`;
	}
	return null;
}

/** The host a URL names ("" for none), to tell whether a change of URL moves the callbacks elsewhere. */
export const callbackHost = (url: string): string => (url === "" ? "" : new URL(url).hostname);
