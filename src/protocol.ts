// Names the source service's wire format gives to numbers (SPEC §5), shared by
// the message API and the callbacks.

export const CONTENT_TYPES = ["TEXT", "IMAGE", "AUDIO", "VIDEO", "FILE", "LOCATION", "COMMAND", "FORWARD"] as const;

export const ctypeName = (contentType: number): (typeof CONTENT_TYPES)[number] | "UNKNOWN" => CONTENT_TYPES[contentType] ?? "UNKNOWN";
