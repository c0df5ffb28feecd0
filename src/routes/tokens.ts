// The token endpoints share their answer: a user token, its user and its expiry.
import { z } from "zod";
import { idOut } from "../http/ids";

export const tokenData = z.object({
	token: z.string().meta({ description: "A user token: send it as header access-token." }),
	user_id: idOut,
	expire: z.int().meta({ description: "When the token expires, in milliseconds since the Unix epoch." }),
});
