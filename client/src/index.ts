// @edge-im/client: typed calls for every endpoint of an edge-im service
// (ImClient), and one user's conversations kept live over its realtime
// channel (Chat). No runtime dependencies: browsers, Node ≥ 20, Workers.
export { backoffMs, ResumePoint } from "./backoff.js";
export type { ChatEvents, ChatOptions, ConnectionState, Entry, Message, WebSocketConstructor, WebSocketLike } from "./chat.js";
export { Chat } from "./chat.js";
export type { ClientOptions } from "./client.js";
export { ImClient } from "./client.js";
export { ImError } from "./errors.js";
export type { components, operations, paths } from "./generated/schema.js";
export type { AnswerOf, BodyOf, CallOptions, QueryOf } from "./types.js";
