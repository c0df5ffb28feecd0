import type { Handler } from "../http/request";
import { handleSend } from "../messages/sendRequest";

/** POST|PUT /message/send — messages (content_type 0-7) and operations on them (9-12). */
export const messageSend: Handler = (request, env, ctx) => handleSend(request, env, ctx, "send");
