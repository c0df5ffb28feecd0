// The service's fixed limits, at the bottom of the layers: request schemas,
// SQL and settings all read them from here, so no lower layer imports a
// higher one to learn a number.

/** Ids (user, group, message) are positive integers up to 2^53-1 (SPEC §2). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Request bodies larger than this are 413, refused before parsing (SPEC §2). */
export const MAX_BODY_BYTES = 64 * 1024;

/** App keys (SPEC §3): 1-64 characters from [A-Za-z0-9_-]. */
export const APP_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A message's content, in code points (SPEC §5.1); APPEND never grows it past this. */
export const MAX_CONTENT = 10_000;
/** ext, config and attachment, in code points. */
export const MAX_FIELD = 4_096;
/** Targets of one send. */
export const MAX_TARGETS = 100;

export const MAX_USERNAME = 64;
export const MIN_PASSWORD = 6;
export const MAX_PASSWORD = 128;
/** The Workers runtime refuses PBKDF2 with more than 100,000 iterations. */
export const MAX_PASSWORD_ITERATIONS = 100_000;
/** Each registration costs a slow password hash: 100 keeps one request well inside CPU limits. */
export const MAX_REGISTER_BATCH = 100;

export const DEFAULT_TOKEN_TTL_S = 7 * 24 * 3600;
export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;

/** Users named in one group create, invite or kick. */
export const MAX_USER_LIST = 1000;
