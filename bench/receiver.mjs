// The benchmark's callback receiver, in its own process (forked by bench/run.mjs)
// so that it does not share autocannon's event loop: answers 200 at once and
// remembers when each callback arrived, by msgId, until asked for them.
import { createServer } from "node:http";

const arrivedAt = {};
const server = createServer((request, response) => {
	let raw = "";
	request.on("data", (chunk) => (raw += chunk));
	request.on("end", () => {
		try {
			arrivedAt[JSON.parse(raw).msgId] = Date.now();
		} catch {}
		response.writeHead(200).end("ok");
	});
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
process.on("message", (message) => {
	if (message === "arrivals") process.send?.({ arrivedAt });
});
process.on("disconnect", () => process.exit(0));
