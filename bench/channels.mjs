// The benchmark's realtime clients, in their own process (forked by
// bench/run.mjs) so they do not share autocannon's event loop: opens one
// channel per token given, and remembers when each message event arrived, by
// msg_id, until asked for them.
const arrivedAt = {};
const sockets = [];
process.on("message", async (message) => {
	if (message.open) {
		const { base, app, tokens } = message.open;
		await Promise.all(
			tokens.map(
				(token) =>
					new Promise((resolve, reject) => {
						const url = new URL(`/realtime?app_id=${app}&access_token=${encodeURIComponent(token)}`, base);
						url.protocol = "ws:";
						const socket = new WebSocket(url);
						socket.addEventListener("message", (e) => {
							const text = String(e.data);
							if (!text.startsWith('{"event":"message"')) return;
							arrivedAt[JSON.parse(text).data.msg_id] ??= Date.now();
						});
						socket.addEventListener("open", resolve, { once: true });
						socket.addEventListener("error", reject, { once: true });
						sockets.push(socket);
					}),
			),
		);
		process.send?.({ opened: sockets.length });
	}
	if (message === "arrivals") process.send?.({ arrivedAt });
});
process.on("disconnect", () => {
	for (const socket of sockets) socket.close();
	process.exit(0);
});
