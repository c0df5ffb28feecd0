import type { Handler } from "../http/request";
import { handleSend } from "../messages/sendRequest";

/** POST|PUT /message/notify — admin only; from the system account 0 unless from_user_id is given. */
export const messageNotify: Handler = (request, env, ctx) => handleSend(request, env, ctx, "notify");
