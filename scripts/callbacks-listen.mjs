// npm run callbacks:listen -- [--port 9000] [--secret S] [--fail N] [--json]   (--help: every flag)
// A message-callback receiver for development (docs/API.md "Message callbacks"): prints each
// callback, checks both signatures when --secret is given, and answers 200.
// --fail N answers 500 to the first N attempts (to watch retries).
// Point the app at it: npm run app:settings -- --app 1 --callback-url http://127.0.0.1:9000/ --callback-secret S
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { parseCommand, usageError } from "./cli.mjs";

const command = {
	usage: "usage: npm run callbacks:listen -- [--port N] [--secret S] [--fail N] [--json]",
	summary:
		"A message-callback receiver for development: prints each callback, checks both signatures when --secret is given, and answers 200.",
	flags: {
		port: { type: "string", value: "N", help: "Port to listen on (127.0.0.1).", default: "9000" },
		secret: { type: "string", value: "S", help: "The app's callback secret: verify `signature` and `x-signature` on each callback." },
		fail: { type: "string", value: "N", help: "Answer 500 to the first N attempts (to watch retries).", default: "0" },
		json: { type: "boolean", help: "One JSON line per callback instead of a readable line." },
	},
	notes: "Point an app at it: npm run app:settings -- --app 1 --callback-url http://127.0.0.1:9000/ --callback-secret S",
};
const main = process.argv[1]?.endsWith("callbacks-listen.mjs");
// Imported (a test uses verify): no command line of its own.
const flags = main ? parseCommand(command) : { port: "9000", fail: "0" };
const port = Number(flags.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) usageError(command, "--port must be a port number (0-65535)");
const secret = typeof flags.secret === "string" ? flags.secret : null;
let failuresLeft = Number(flags.fail);
if (!Number.isInteger(failuresLeft) || failuresLeft < 0) usageError(command, "--fail must be a whole number");
const asJson = flags.json === true;
/** A signature older than this is refused (replayed). */
const TOLERANCE_S = 300;

const same = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Both schemes: the source service's `signature` (the secret itself) and x-signature (HMAC of "<t>.<body>"). */
export function verify(headers, raw, key, nowS = Date.now() / 1000) {
	const plain = typeof headers.signature === "string" && same(headers.signature, key);
	const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers["x-signature"] ?? "");
	const expected = match ? createHmac("sha256", key).update(`${match[1]}.${raw}`).digest("hex") : "";
	const hmac = Boolean(match) && same(match[2], expected) && Math.abs(nowS - Number(match[1])) <= TOLERANCE_S;
	return { signature: plain, xSignature: hmac };
}

const server = createServer((request, response) => {
	const chunks = [];
	request.on("data", (c) => chunks.push(c));
	request.on("end", () => {
		const raw = Buffer.concat(chunks).toString("utf8");
		let body = null;
		try {
			body = JSON.parse(raw);
		} catch {}
		const checks = secret ? verify(request.headers, raw, secret) : null;
		const status = failuresLeft > 0 ? 500 : 200;
		if (failuresLeft > 0) failuresLeft--;
		const seen = {
			at: new Date().toISOString(),
			webhook_id: request.headers["x-webhook-id"],
			attempt: Number(request.headers["x-webhook-attempt"]),
			signatures: checks ? { signature: checks.signature, "x-signature": checks.xSignature } : "not checked (no --secret)",
			answered: status,
			body,
		};
		if (asJson) console.log(JSON.stringify(seen));
		else {
			const ok = (v) => (v ? "ok" : "BAD");
			const sig = checks ? `signature ${ok(checks.signature)}, x-signature ${ok(checks.xSignature)}` : "signatures not checked";
			console.log(
				`${seen.at} ${body?.type ?? "?"} msgId=${body?.msgId} ${body?.from?.uid} -> ${body?.to?.uid} ${JSON.stringify(body?.content ?? "")}` +
					`  [${seen.webhook_id} attempt ${seen.attempt}; ${sig}; answered ${status}]`,
			);
		}
		response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "failing on purpose");
	});
});

if (main) {
	server.listen(port, "127.0.0.1", () => {
		console.error(`Listening for callbacks on http://127.0.0.1:${port}/${secret ? " (verifying signatures)" : ""}`);
	});
}
