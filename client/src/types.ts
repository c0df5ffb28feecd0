// The shapes the generated calls are typed with (client/src/generated, built
// from the service's OpenAPI document by `npm run build:client`).

/** Per call: extra headers (e.g. `user_id` for an admin acting as a user), and an abort signal. */
export type CallOptions = { headers?: Record<string, string>; signal?: AbortSignal };

/** How a generated call reaches the service. */
export type Transport = (method: string, path: string, init: { query?: object; body?: unknown } & CallOptions) => Promise<any>; // each generated call narrows its answer

/** An operation's query parameters. */
export type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** An operation's JSON body. */
export type BodyOf<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
/** An operation's answer: the whole envelope `{code, message, data, …}`. */
export type AnswerOf<O> = O extends { responses: { 200: { content: { "application/json": infer A } } } } ? A : never;
