// The chat page served at / (Workers static assets), built on the client
// library (client/, docs/CLIENT.md): the library keeps the conversations and
// the live channel right; this file only shows them and turns clicks into
// calls. Every error is shown next to what failed, and what was typed stays.

import { Chat, type Entry, ImClient, ImError, type Message } from "../client/src/index";

type Session = { app: string; token: string; userId: number; name: string };
const SESSION_KEY = "edge-im-session";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(
	tag: K,
	props: Partial<HTMLElementTagNameMap[K]> = {},
	...children: (Node | string)[]
) => {
	const node = Object.assign(document.createElement(tag), props);
	node.append(...children);
	return node;
};

let session: Session | null = null;
let im: ImClient | null = null;
let chat: Chat | null = null;
/** The conversation shown: a user (1) or a group (2). */
let current: { id: number; type: 1 | 2 } | null = null;

const errorText = (error: unknown): string => {
	if (error instanceof ImError) {
		if (error.code === 0) return "The service cannot be reached. Check your connection and try again.";
		if (error.code === 429 || error.code === 503) return `The service is busy (${error.code}): try again in a moment.`;
		return error.message;
	}
	return error instanceof Error ? error.message : String(error);
};
const showError = (id: string, error: unknown) => {
	$(id).textContent = error === "" ? "" : errorText(error);
};

// ---- session ------------------------------------------------------------------

function saveSession(s: Session | null) {
	if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
	else localStorage.removeItem(SESSION_KEY);
}

function loadSession(): Session | null {
	try {
		const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null") as Session | null;
		return s && typeof s.token === "string" && Number.isSafeInteger(s.userId) ? s : null;
	} catch {
		return null;
	}
}

$("login").addEventListener("submit", async (e) => {
	e.preventDefault();
	const form = new FormData(e.target as HTMLFormElement);
	const app = String(form.get("app")).trim();
	const name = String(form.get("name")).trim();
	const button = (e.target as HTMLFormElement).querySelector("button") as HTMLButtonElement;
	button.disabled = true;
	showError("login-error", "");
	try {
		const client = new ImClient({ baseUrl: location.origin, appId: app });
		const { token, user_id } = await client.login(name, String(form.get("password")));
		const s = { app, token, userId: user_id, name };
		saveSession(s);
		(e.target as HTMLFormElement).reset();
		(document.querySelector("#login input[name=app]") as HTMLInputElement).value = app;
		await start(s);
	} catch (error) {
		showError("login-error", error);
	} finally {
		button.disabled = false;
	}
});

$("logout").addEventListener("click", () => logOut(""));

/** Back to the log-in form: the chat stopped, nothing kept. */
function logOut(notice: string) {
	chat?.stop();
	chat = null;
	im = null;
	session = null;
	current = null;
	saveSession(null);
	names.clear();
	previews.clear();
	$("app").hidden = true;
	$("logout").hidden = true;
	$("who").textContent = "";
	$("login").hidden = false;
	$("login-notice").textContent = notice;
	setLive("offline");
}

async function start(s: Session) {
	session = s;
	im = new ImClient({ baseUrl: location.origin, appId: s.app, token: s.token });
	chat = new Chat(im, {
		userId: s.userId,
		// The token ended (expired, or revoked): log in again; the next session resumes where this one was.
		credentials: async () => {
			logOut("Your session has ended: log in again to continue.");
			throw new Error("logged out");
		},
	});
	chat.on("state", setLive);
	chat.on("conversations", renderList);
	chat.on("changed", ({ conversationId }) => {
		if (current?.id === conversationId) renderMessages();
		refreshPreviewFromHeld(conversationId);
	});
	chat.on("message", ({ conversationId, message, onlineOnly }) => {
		if (!onlineOnly) {
			setPreview(conversationId, message);
			if (chat) renderList(chat.conversations());
		}
		if (current?.id === conversationId && message.from_xid.uid !== s.userId) scheduleRead();
	});
	chat.on("error", (error) => showError("list-error", error));
	$("login").hidden = true;
	$("app").hidden = false;
	$("logout").hidden = false;
	$("login-notice").textContent = "";
	$("who").textContent = `${s.name} · app ${s.app}`;
	$("who").dataset.userId = String(s.userId);
	setView("list");
	try {
		await chat.loadConversations();
	} catch (error) {
		if (error instanceof ImError && error.code === 401) return logOut("Your session has ended: log in again.");
		showError("list-error", error);
	}
	chat.start();
}

function setLive(state: string) {
	const live = $("live");
	live.textContent =
		state === "live" ? "live" : state === "connecting" ? "connecting…" : state === "offline" ? "offline, retrying" : "offline";
	live.className = state === "live" ? "on" : state === "offline" ? "off" : "";
}

// ---- names ----------------------------------------------------------------------

/** Display names by "u:<id>" / "g:<id>"; a promise while being asked. */
const names = new Map<string, string | Promise<string>>();

/** A user's name: the nick name, else the username (fetched once); "You" for oneself. */
function userName(id: number): string {
	if (id === session?.userId) return "You";
	const known = names.get(`u:${id}`);
	if (typeof known === "string") return known;
	if (!known && im) {
		const asking = im
			.getUserProfile({ query: { user_id: id } })
			.then(({ data }) => data.nick_name || data.username)
			.catch(() => `user ${id}`)
			.then((name) => {
				names.set(`u:${id}`, name);
				rerender();
				return name;
			});
		names.set(`u:${id}`, asking);
	}
	return `user ${id}`;
}

function conversationName(id: number, type: 1 | 2): string {
	if (type === 2) return (names.get(`g:${id}`) as string | undefined) ?? `Group ${id}`;
	return userName(id);
}

let rerenderQueued = false;
/** Names arrived: draw again once, at the next frame. */
function rerender() {
	if (rerenderQueued) return;
	rerenderQueued = true;
	requestAnimationFrame(() => {
		rerenderQueued = false;
		if (chat) renderList(chat.conversations());
		renderMessages();
	});
}

// ---- the conversation list ------------------------------------------------------

/** Each conversation's last message, as far as known: from events, history, or one read per conversation. */
const previews = new Map<number, { msgId: number; text: string; from: number } | "asking">();

function setPreview(conversationId: number, m: Message) {
	const known = previews.get(conversationId);
	if (known !== undefined && known !== "asking" && known.msgId > m.msg_id) return;
	previews.set(conversationId, { msgId: m.msg_id, text: m.recalled ? "Message recalled" : m.content, from: m.from_xid.uid });
}

function refreshPreviewFromHeld(conversationId: number) {
	const held = chat?.messages(conversationId) ?? [];
	const last = held[held.length - 1];
	if (last) {
		previews.delete(conversationId);
		setPreview(conversationId, last);
		if (chat) renderList(chat.conversations());
	}
}

/**
 * A conversation whose last message is not known yet: read it once (its newest
 * history page of one). Asked a moment later, so that a message event that
 * moved the list, and carries the message itself, is not read again.
 */
const wanted = new Map<number, Entry>();
function askPreview(entry: Entry) {
	wanted.set(entry.conversation_id.uid, entry);
	if (wanted.size === 1) setTimeout(askWanted, 50);
}

function askWanted() {
	const entries = [...wanted.values()];
	wanted.clear();
	for (const entry of entries) {
		const id = entry.conversation_id.uid;
		const known = previews.get(id);
		if (known === "asking" || (known && known.msgId >= entry.last_msg_id) || !im) continue;
		previews.set(id, "asking");
		im.getMessageConversation({ query: { opposite_id: id, limit: 1 } })
			.then(({ data }) => {
				previews.delete(id);
				const last = data.messages[0];
				if (last) setPreview(id, last);
				else previews.set(id, { msgId: entry.last_msg_id, text: "", from: 0 });
				rerender();
			})
			.catch(() => previews.set(id, { msgId: entry.last_msg_id, text: "", from: 0 }));
	}
}

function timeText(ms: number): string {
	const at = new Date(ms);
	const today = new Date().toDateString() === at.toDateString();
	return today ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : at.toLocaleDateString();
}

function renderList(entries: Entry[]) {
	$("list-empty").hidden = entries.length > 0;
	$("conversations").replaceChildren(
		...entries.map((entry, index) => {
			const id = entry.conversation_id.uid;
			const type = entry.type === 2 ? 2 : 1;
			if (index < 50) {
				const known = previews.get(id);
				if (!known || (known !== "asking" && known.msgId < entry.last_msg_id)) askPreview(entry);
			}
			const preview = previews.get(id);
			const who = preview && preview !== "asking" && type === 2 && preview.from ? `${userName(preview.from)}: ` : "";
			const text = preview && preview !== "asking" ? who + preview.text : "";
			const row = el(
				"button",
				{ type: "button", className: `row${current?.id === id ? " open" : ""}` },
				el("span", { className: "name" }, conversationName(id, type)),
				el("time", { dateTime: new Date(entry.last_timestamp).toISOString() }, timeText(entry.last_timestamp)),
				el("span", { className: "preview" }, text),
				el("span", { className: "badge", title: "unread" }, entry.num > 0 ? String(entry.num) : ""),
			);
			row.dataset.peer = String(id);
			row.addEventListener("click", () => openConversation(id, type, "list-error"));
			return el("li", {}, row);
		}),
	);
}

$("open").addEventListener("submit", (e) => {
	e.preventDefault();
	const form = new FormData(e.target as HTMLFormElement);
	const id = Number(form.get("id"));
	const type = form.get("type") === "2" ? 2 : 1;
	if (!Number.isSafeInteger(id) || id <= 0) return showError("open-error", new Error("An id is a whole number above 0."));
	void openConversation(id, type, "open-error");
});

$("group").addEventListener("submit", async (e) => {
	e.preventDefault();
	if (!im) return;
	const formElement = e.target as HTMLFormElement;
	const form = new FormData(formElement);
	const name = String(form.get("name")).trim();
	const members = String(form.get("members"))
		.split(/[\s,]+/)
		.filter(Boolean)
		.map(Number);
	if (members.some((m) => !Number.isSafeInteger(m) || m <= 0)) {
		return showError("group-error", new Error("Members are user ids: whole numbers, separated by commas."));
	}
	const button = formElement.querySelector("button") as HTMLButtonElement;
	button.disabled = true;
	try {
		const created = await im.postGroupCreate({ body: { name, user_list: members } });
		names.set(`g:${created.data.group_id}`, name);
		formElement.reset();
		showError("group-error", "");
		(formElement.closest("details") as HTMLDetailsElement).open = false;
		await openConversation(created.data.group_id, 2, "group-error");
	} catch (error) {
		showError("group-error", error);
	} finally {
		button.disabled = false;
	}
});

// ---- one conversation -----------------------------------------------------------

/** Opens a conversation; when that fails, says so at `errorAt` and keeps showing the one before. */
async function openConversation(id: number, type: 1 | 2, errorAt: string) {
	if (!chat || !im) return;
	for (const at of ["open-error", "list-error", "group-error"]) showError(at, "");
	if (type === 1 && id === session?.userId) return showError(errorAt, new Error("That is your own id: open someone else's."));
	try {
		if (type === 1) {
			// An id nobody has is refused here, before anything changes.
			const { data } = await im.getUserProfile({ query: { user_id: id } });
			names.set(`u:${id}`, data.nick_name || data.username);
		}
		await chat.open(id, type);
	} catch (error) {
		const missing = error instanceof ImError && error.code === 404;
		return showError(errorAt, missing ? new Error(`There is no ${type === 1 ? "user" : "group"} ${id} in this app.`) : error);
	}
	if (current && current.id !== id) chat.close(current.id);
	current = { id, type };
	for (const at of ["compose-error", "older-error"]) showError(at, "");
	for (const control of ["text", "send", "stream"]) $<HTMLInputElement>(control).disabled = false;
	setView("conversation");
	renderList(chat.conversations());
	renderMessages(true);
	scheduleRead();
	$("text").focus();
}

function setView(view: "list" | "conversation") {
	$("app").dataset.view = view;
	if (view === "conversation") scheduleRead();
}

$("back").addEventListener("click", () => setView("list"));

/** Whether the conversation is on screen (a phone shows the list or the conversation). */
const conversationVisible = () =>
	document.visibilityState === "visible" && ($("app").dataset.view === "conversation" || matchMedia("(min-width: 721px)").matches);

let readTimer: ReturnType<typeof setTimeout> | null = null;
/** Reading what is on screen moves the read position (once for a burst of messages). */
function scheduleRead() {
	if (readTimer || !current) return;
	readTimer = setTimeout(() => {
		readTimer = null;
		if (!chat || !current || !conversationVisible()) return;
		const entry = chat.conversations().find((e) => e.conversation_id.uid === current?.id);
		const unread = chat.messages(current.id).some((m) => m.from_xid.uid !== session?.userId && m.status !== "READ");
		if ((entry?.num ?? 0) > 0 || unread) chat.markRead(current.id).catch((error) => showError("compose-error", error));
	}, 250);
}
document.addEventListener("visibilitychange", scheduleRead);

const messageErrors = new Map<number, string>();

function renderMessages(toBottom = false) {
	if (!chat || !current) return;
	const { id, type } = current;
	$("title").textContent = conversationName(id, type);
	const box = $("messages");
	const atBottom = toBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 40;
	const fromBottom = box.scrollHeight - box.scrollTop;
	const mine = session?.userId;
	$("message-list").replaceChildren(
		...chat.messages(id).map((m) => {
			const own = m.from_xid.uid === mine;
			const meta = el("span", { className: "meta" }, el("time", {}, timeText(m.timestamp)));
			if (own && type === 1 && !m.recalled) meta.append(el("span", { className: "status" }, m.status === "READ" ? "Read" : "Sent"));
			if (own && !m.recalled && !m.is_system) {
				const recall = el("button", { type: "button", className: "secondary recall" }, "Recall");
				recall.addEventListener("click", () => recallMessage(id, m.msg_id, recall));
				meta.append(recall);
			}
			const item = el(
				"li",
				{ className: `message${own ? " mine" : ""}${m.recalled ? " recalled" : ""}` },
				...(type === 2 && !own ? [el("span", { className: "sender" }, userName(m.from_xid.uid))] : []),
				el("span", { className: "text" }, m.recalled ? "Message recalled" : m.content),
				meta,
			);
			item.dataset.msgId = String(m.msg_id);
			const error = messageErrors.get(m.msg_id);
			if (error) item.append(el("p", { className: "error", role: "alert" }, error));
			return item;
		}),
	);
	$("older").hidden = !chat.hasOlder(id);
	box.scrollTop = atBottom ? box.scrollHeight : box.scrollHeight - fromBottom;
}

async function recallMessage(conversationId: number, msgId: number, button: HTMLButtonElement) {
	if (!chat) return;
	button.disabled = true;
	messageErrors.delete(msgId);
	try {
		await chat.recall(conversationId, msgId);
	} catch (error) {
		const late = error instanceof ImError && error.code === 403;
		messageErrors.set(msgId, late ? "It can no longer be recalled (the recall window has passed)." : errorText(error));
		renderMessages();
	}
}

$("older").addEventListener("click", async () => {
	if (!chat || !current) return;
	const button = $<HTMLButtonElement>("older");
	button.disabled = true;
	showError("older-error", "");
	try {
		await chat.loadOlder(current.id);
	} catch (error) {
		showError("older-error", error);
	} finally {
		button.disabled = false;
	}
});

let sending = false;
$("compose").addEventListener("submit", async (e) => {
	e.preventDefault();
	const input = $<HTMLInputElement>("text");
	const content = input.value;
	if (!chat || !current || sending || content.trim() === "") return;
	sending = true;
	$<HTMLButtonElement>("send").disabled = true;
	showError("compose-error", "");
	try {
		await chat.send(current.id, current.type, content);
		if (input.value === content) input.value = ""; // only what was sent is cleared
	} catch (error) {
		showError("compose-error", error); // the text stays, to send again
	} finally {
		sending = false;
		$<HTMLButtonElement>("send").disabled = false;
		input.focus();
	}
});

/** A demo of what a bot's streamed answer looks like: a first chunk, online_only APPENDs, then the final REPLACE. */
$("stream").addEventListener("click", async () => {
	if (!chat || !im || !current) return;
	const button = $<HTMLButtonElement>("stream");
	button.disabled = true;
	showError("compose-error", "");
	const { id, type } = current;
	const words = "Streaming works: each chunk travels to the other side as it is written, and history keeps only the final text.".split(" ");
	try {
		const first = await chat.send(id, type, words[0] as string);
		for (const word of words.slice(1)) {
			await new Promise((r) => setTimeout(r, 120));
			await im.postMessageSend({
				body: { type, targets: [id], content_type: 11, related_mid: first, content: ` ${word}`, online_only: true },
			});
		}
		await im.postMessageSend({ body: { type, targets: [id], content_type: 12, related_mid: first, content: words.join(" ") } });
	} catch (error) {
		showError("compose-error", error);
	} finally {
		button.disabled = false;
	}
});

// ---- start ------------------------------------------------------------------------

const saved = loadSession();
if (saved) void start(saved);
