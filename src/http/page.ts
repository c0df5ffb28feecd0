// Paged lists (unread list, member list, dead letters): the query fields every
// one takes, and the `cursor` it answers at the top level.
import { z } from "zod";
import { MAX_ID } from "../limits";
import { integerIn } from "./ids";

/** `limit` (absent: `defaultLimit`; above `maxLimit`: clamped) and the previous page's `cursor`. */
export function pageQuery<C extends z.ZodType>(cursor: C, items: string, defaultLimit: number, maxLimit: number) {
	return {
		limit: integerIn(1, MAX_ID, `${items} per page: default ${defaultLimit}; larger than ${maxLimit} is clamped.`).optional(),
		cursor: z
			.union([z.literal(""), cursor])
			.optional()
			.meta({ description: 'The `cursor` of the previous page; "" or absent: the first page.' }),
	};
}

/** The top-level `cursor` of a page's answer. */
export const pageCursor = { cursor: z.string().meta({ description: 'Pass it to get the next page; "" on the last page.' }) };
