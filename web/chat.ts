// The chat page served at / (Workers static assets): a person logs in as a
// user, opens conversations, and chats live over GET /realtime. It uses only
// the public API, as any client would.

export {};

type Message = {
	msg_id: number;
	type: "CHAT" | "GROUPCHAT";
	content: string;
	timestamp: number;
	status: "UNREAD" | "DELIVERED" | "READ";
	from_xid: { uid: number };
	recalled: boolean;
};
type Entry = { conversation_id: { uid: number }; num: number; type: number; last_msg_id: number };
type ServerEvent =
	| { event: "message"; data: Message & { conversation_id: number; online_only: boolean } }
	| { event: "append"; data: { conversation_id: number; msg_id: number; content: string } }
	| { event: "update"; data: { conversation_id: number; message: Message } }
	| { event: "read"; data: { conversation_id: number; user_id: number; msg_id: number } }
	| { event: "conversation_deleted"; data: { conversation_id: number } }
	| { event: "resync"; data: unknown };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const session = { app: "", token: "", userId: 0 };
/** The current conversation: the peer (user or group) and its messages by id. */
let current: { peer: number; type: 1 | 2; messages: Map<number, Message> } | null = null;
let entries: Entry[] = [];
let largestSeen = 0;

async function api(path: string, init: { method?: string; body?: unknown; query?: Record<string, string | number> } = {}) {
	const url = new URL(path, location.origin);
	for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, String(v));
	const headers: Record<string, string> = { app_id: session.app };
	if (session.token) headers["access-token"] = session.token;
	if (init.body !== undefined) headers["content-type"] = "application/json";
	const response = await fetch(url, {
		method: init.method ?? (init.body === undefined ? "GET" : "POST"),
		headers,
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	const answer = await response.json();
	if (answer.code !== 200) throw new Error(answer.message);
	return answer;
}

// ---- log in -----------------------------------------------------------------

$("login").addEventListener("submit", async (e) => {
	e.preventDefault();
	const form = new FormData(e.target as HTMLFormElement);
	session.app = String(form.get("app"));
	try {
		const { data } = await api("/token/user", { body: { name: form.get("name"), password: form.get("password") } });
		Object.assign(session, { token: data.token, userId: data.user_id });
		$("who").textContent = `${form.get("name")} (user ${data.user_id}) in app ${session.app}`;
		$("login").hidden = true;
		$("app").hidden = false;
		await refreshList();
		connect();
	} catch (error) {
		$("login-error").textContent = String((error as Error).message);
	}
});

// ---- conversation list --------------------------------------------------------

async function refreshList() {
	entries = (await api("/message/unread", { query: { limit: 100 } })).data;
	const list = $("conversations");
	list.replaceChildren(
		...entries.map((entry) => {
			const row = document.createElement("div");
			const peer = entry.conversation_id.uid;
			row.className = `conversation${current?.peer === peer ? " open" : ""}`;
			row.dataset.peer = String(peer);
			row.innerHTML = `<span></span><span class="badge"></span>`;
			(row.firstChild as HTMLElement).textContent = `${entry.type === 2 ? "group" : "user"} ${peer}`;
			(row.lastChild as HTMLElement).textContent = entry.num > 0 ? String(entry.num) : "";
			row.addEventListener("click", () => openConversation(peer, entry.type === 2 ? 2 : 1));
			return row;
		}),
	);
}

$("open").addEventListener("submit", (e) => {
	e.preventDefault();
	const peer = Number(new FormData(e.target as HTMLFormElement).get("peer"));
	if (peer > 0) openConversation(peer, entries.find((x) => x.conversation_id.uid === peer)?.type === 2 ? 2 : 1);
});

// ---- one conversation ---------------------------------------------------------

async function openConversation(peer: number, type: 1 | 2) {
	current = { peer, type, messages: new Map() };
	$("title").textContent = `${type === 2 ? "Group" : "User"} ${peer}`;
	for (const el of document.querySelectorAll<HTMLInputElement | HTMLButtonElement>("#compose input, #compose button")) el.disabled = false;
	const page = (await api("/message/conversation", { query: { opposite_id: peer, limit: 50 } })).data.messages as Message[];
	for (const m of page.reverse()) current.messages.set(m.msg_id, m);
	render();
	await markRead();
}

function render() {
	const box = $("messages");
	if (!current) return;
	box.replaceChildren(
		...[...current.messages.values()].map((m) => {
			const el = document.createElement("div");
			const mine = m.from_xid.uid === session.userId;
			el.className = `message${mine ? " mine" : ""}${m.recalled ? " recalled" : ""}`;
			el.dataset.msgId = String(m.msg_id);
			el.textContent = m.recalled ? "(recalled)" : m.content;
			const meta = document.createElement("span");
			meta.className = "meta";
			meta.textContent = `${new Date(m.timestamp).toLocaleTimeString()}${mine ? ` · ${m.status}` : ""}`;
			el.append(meta);
			return el;
		}),
	);
	box.scrollTop = box.scrollHeight;
	void refreshList();
}

/** Reading the current conversation moves my read position: the sender sees READ, my unread count drops. */
async function markRead() {
	if (!current || current.messages.size === 0) return;
	await api("/message/ack", { query: { conversation_id: current.peer } }).catch(() => undefined);
	await refreshList();
}

$("compose").addEventListener("submit", async (e) => {
	e.preventDefault();
	const input = (e.target as HTMLFormElement).elements.namedItem("text") as HTMLInputElement;
	if (!current || !input.value) return;
	const content = input.value;
	input.value = "";
	await api("/message/send", { body: { type: current.type, targets: [current.peer], content_type: 0, content } });
});

/** A reply streamed the way an AI bot does it: a first chunk, online_only APPENDs, then the final REPLACE. */
$("stream").addEventListener("click", async () => {
	if (!current) return;
	const words = "Streaming works: each chunk travels to the other side as it is written, and history keeps only the final text.".split(" ");
	const target = { type: current.type, targets: [current.peer] };
	const first = await api("/message/send", { body: { ...target, content_type: 0, content: words[0] } });
	const related_mid = first.msg_ids[0];
	for (const word of words.slice(1)) {
		await new Promise((r) => setTimeout(r, 120));
		await api("/message/send", { body: { ...target, content_type: 11, related_mid, content: ` ${word}`, online_only: true } });
	}
	await api("/message/send", { body: { ...target, content_type: 12, related_mid, content: words.join(" ") } });
});

// ---- the live channel ---------------------------------------------------------

function connect() {
	const url = new URL("/realtime", location.origin);
	url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
	url.searchParams.set("app_id", session.app);
	url.searchParams.set("access_token", session.token);
	if (largestSeen > 0) url.searchParams.set("since", String(largestSeen));
	const socket = new WebSocket(url);
	socket.addEventListener("open", () => {
		$("live").textContent = "live";
		$("live").className = "on";
	});
	socket.addEventListener("message", (e) => {
		if (e.data === "pong") return;
		onEvent(JSON.parse(e.data) as ServerEvent);
	});
	socket.addEventListener("close", () => {
		$("live").textContent = "reconnecting…";
		$("live").className = "";
		setTimeout(connect, 1000); // resumes with since: nothing missed in between
	});
	const keepAlive = setInterval(() => (socket.readyState === WebSocket.OPEN ? socket.send("ping") : clearInterval(keepAlive)), 30_000);
}

function onEvent(e: ServerEvent) {
	const here =
		current && "conversation_id" in (e.data as object) && (e.data as { conversation_id: number }).conversation_id === current.peer;
	switch (e.event) {
		case "message":
			largestSeen = Math.max(largestSeen, e.data.msg_id);
			if (here && current) {
				current.messages.set(e.data.msg_id, e.data);
				render();
				if (e.data.from_xid.uid !== session.userId) void markRead();
			} else void refreshList();
			break;
		case "append": {
			const m = here ? current?.messages.get(e.data.msg_id) : undefined;
			if (m) {
				m.content += e.data.content;
				render();
			}
			break;
		}
		case "update":
			if (here && current?.messages.has(e.data.message.msg_id)) {
				current.messages.set(e.data.message.msg_id, {
					...e.data.message,
					status: current.messages.get(e.data.message.msg_id)?.status ?? "DELIVERED",
				});
				render();
			}
			break;
		case "read":
			// The peer read up to msg_id: my messages up to there are READ.
			if (here && current && e.data.user_id !== session.userId) {
				for (const m of current.messages.values()) if (m.from_xid.uid === session.userId && m.msg_id <= e.data.msg_id) m.status = "READ";
				render();
			} else void refreshList();
			break;
		case "conversation_deleted":
		case "resync":
			void refreshList();
			if (current) void openConversation(current.peer, current.type);
			break;
	}
}
