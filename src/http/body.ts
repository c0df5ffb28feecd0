import { MAX_BODY_BYTES } from "../limits";
import { ApiError, badRequest } from "./envelope";

/**
 * Reads a JSON object body, refusing more than 64 KiB before parsing (SPEC §2):
 * first by Content-Length, then while streaming, for bodies sent without one.
 */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
	const declared = Number(request.headers.get("content-length") ?? "0");
	if (declared > MAX_BODY_BYTES) throw tooLarge();
	const bytes = await readAtMost(request.body, MAX_BODY_BYTES);
	let parsed: unknown;
	try {
		parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
	} catch {
		throw badRequest("The request body is not valid JSON.");
	}
	if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
		throw badRequest("The request body must be a JSON object.");
	}
	return parsed as Record<string, unknown>;
}

async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
	if (!body) return new Uint8Array();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of body) {
		size += chunk.byteLength;
		if (size > limit) throw tooLarge();
		chunks.push(chunk);
	}
	const out = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}

const tooLarge = () => new ApiError(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
