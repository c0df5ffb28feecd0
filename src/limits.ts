// The service's fixed limits, at the bottom of the layers: request schemas,
// SQL and settings all read them from here, so no lower layer imports a
// higher one to learn a number.

/** Ids (user, group, message) are positive integers up to 2^53-1 (docs/API.md "Conventions"). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Request bodies larger than this are 413, refused before parsing (docs/API.md "Conventions"). */
export const MAX_BODY_BYTES = 64 * 1024;

/** App keys (docs/API.md "Apps, credentials and who is acting"): 1-64 characters from [A-Za-z0-9_-]. */
export const APP_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A message's content, in code points (docs/API.md); APPEND never grows it past this. */
export const MAX_CONTENT = 10_000;
/** ext, config and attachment, in code points. */
export const MAX_FIELD = 4_096;
/** Targets of one send. */
export const MAX_TARGETS = 100;

export const MAX_USERNAME = 64;
/** Profile texts (docs/API.md, "Profiles"), in code points. */
export const MAX_NICK_NAME = 64;
export const MAX_DESCRIPTION = 512;
export const MAX_INFO = 4_096;
export const MAX_AVATAR_URL = 2_048;
/** Profiles changed by one batch request. */
export const MAX_PROFILE_BATCH = 100;
export const MIN_PASSWORD = 6;
export const MAX_PASSWORD = 128;
/** The Workers runtime refuses PBKDF2 with more than 100,000 iterations. */
export const MAX_PASSWORD_ITERATIONS = 100_000;
/** Each registration costs a slow password hash: 100 keeps one request well inside CPU limits. */
export const MAX_REGISTER_BATCH = 100;

export const DEFAULT_TOKEN_TTL_S = 7 * 24 * 3600;
export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;

/** Writes that may wait inside one conversation's object (sends, and other writes, each); beyond: 503 + Retry-After (docs/API.md). */
export const MAX_QUEUED_WRITES = 1000;

/** Users named in one group create, invite or kick. */
export const MAX_USER_LIST = 1000;

/** Message callbacks (docs/API.md "Message callbacks"): a receiver has this long to answer 2xx. */
export const CALLBACK_TIMEOUT_MS = 10_000;
/** Retries wait 1 s, 2 s, 4 s, … (with jitter), never more than this. */
export const CALLBACK_MAX_BACKOFF_MS = 10 * 60_000;
/** Dead letters are kept this long for GET /app/callbacks/failed and redelivery. */
export const CALLBACK_DEAD_KEEP_MS = 30 * 24 * 3600_000;
/** Callback settings (URL and secret rules: src/callbacks/destination.ts). */
export const MAX_CALLBACK_USER_IDS = 100;
export const MAX_CALLBACK_ATTEMPTS = 20;
export const DEFAULT_CALLBACK_ATTEMPTS = 10;
export const MAX_SEND_RATE_PER_MIN = 100_000;

/** Realtime channels (docs/API.md "Real-time delivery"): open WebSockets per user (devices and tabs together); one more is 429. */
export const MAX_CHANNELS_PER_USER = 20;
/** A client frame larger than this many UTF-8 bytes closes its channel (1009); clients only send "ping". */
export const MAX_CLIENT_FRAME_BYTES = 1024;
/** More client frames than this (pings aside) within the window close the channel (1008). */
export const MAX_CLIENT_FRAMES_PER_WINDOW = 20;
export const CLIENT_FRAME_WINDOW_MS = 10_000;
/** A channel opened with the admin token is checked against the app's current token this often (closed within 60 s of a rotation). */
export const ADMIN_CHANNEL_RECHECK_MS = 45_000;
/** A resume (`since`) replays at most this many missed messages; beyond, one `resync` event (docs/API.md "Real-time delivery"). */
export const MAX_RESUME_MESSAGES = 1000;
/** How long a device's recently sent message ids are remembered, so a resume can fill what overtook its `since`. */
export const RESUME_LOG_MS = 120_000;
