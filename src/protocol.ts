// Names the source service's wire format gives to numbers (docs/API.md), shared by
// the message API and the callbacks.

export const CONTENT_TYPES = ["TEXT", "IMAGE", "AUDIO", "VIDEO", "FILE", "LOCATION", "COMMAND", "FORWARD"] as const;

export const ctypeName = (contentType: number): (typeof CONTENT_TYPES)[number] | "UNKNOWN" => CONTENT_TYPES[contentType] ?? "UNKNOWN";

/** Content types whose message is a file (IMAGE, AUDIO, VIDEO, FILE): its attachment must carry an http(s) url. */
export const MEDIA_CONTENT_TYPES = [1, 2, 3, 4] as const;

/** Content types 9-12 (docs/API.md): operations on an existing message, sent through /message/send. */
export const READ_ACK = 9;
export const RECALL = 10;
export const APPEND = 11;
export const REPLACE = 12;
export const OPERATIONS = new Set([READ_ACK, RECALL, APPEND, REPLACE]);
