// The response shapes the source service documents for its message and group
// endpoints, written by us as zod schemas. Every 200 answer of the e2e suite
// to one of these endpoints is held against its shape (see client.ts), so a
// change that breaks a documented shape fails CI.
//
// Source: repository maxim-top/im.gitbook, file
// zh-hans/reference/server-api/swagger/api-docs.json at commit
// 17a2cbc609ca516fab79fe7fdfc0a0f2204846df (the Swagger 2.0 document; its
// definitions named below), and its rendering zh-hans/reference/server-api/
// message.md and group.md at commit 0fdf01f514da69a29d0af5a55d8f100091183be2;
// the user endpoints from en/reference/server-api/user.md at commit
// 35ed412b0e142b028f8151fc0c7c7eac1fe24a6b (3.3 avatar, 3.12 disable, 3.15
// enable, 3.20 nickname, 3.22 online status, 3.25-3.29 profile).
// Field names and types are the document's; a field the document lists is
// required here when this service always sends it. Extra fields are allowed
// (our answers are supersets, e.g. `recalled`, `cursor`).
import { z } from "zod";

const int64 = z.number().int();
const int32 = z
	.number()
	.int()
	.min(-(2 ** 31))
	.max(2 ** 31 - 1);

/** The wrapper of every answer: Response«T» (message: "null if success"; we send ""). */
const response = <T extends z.ZodType>(data: T) => z.object({ code: z.literal(200), message: z.string().nullable(), data });

/** 用户和设备 */
const xid = z.object({ uid: int64, device_sn: int32 });

/** 会话消息 */
const message = z.object({
	msg_id: int64,
	attachment: z.string(),
	config: z.string(),
	content: z.string(),
	ctype: z.enum(["TEXT", "IMAGE", "AUDIO", "VIDEO", "FILE", "LOCATION", "COMMAND", "FORWARD"]),
	ext: z.string(),
	from_xid: xid,
	to_xid: xid,
	status: z.enum(["UNREAD", "DELIVERED", "READ"]),
	timestamp: int64,
});

/** The result rows of invite and kick (group.md docs/API.md). */
const memberResult = z.object({ user_id: int64, result: z.enum(["success", "fail"]), reason: z.string() });

/** 群成员格式 (expired_time: mute expiry, which this service does not have). */
const member = z.object({ user_id: int64, display_name: z.string(), join_time: int64, expired_time: int64.optional() });

const boolean = response(z.boolean());

export const SOURCE_SHAPES: Record<string, z.ZodType> = {
	/** SendMessageResponse«boolean» */
	"POST /message/send": boolean.extend({ msg_ids: z.array(int64) }),
	"PUT /message/send": boolean.extend({ msg_ids: z.array(int64) }),
	"POST /message/notify": boolean,
	"PUT /message/notify": boolean,
	/** Response«会话消息列表» */
	"GET /message/conversation": response(z.object({ is_last: z.boolean(), messages: z.array(message), next_msg_id: int64 })),
	/** UnreadDto with 会话信息 */
	"GET /message/unread": response(z.array(z.object({ conversation_id: z.object({ uid: int64 }), num: int32 }))),
	"GET /message/ack": boolean,
	"POST /message/recall": boolean,
	"PUT /message/recall": boolean,
	"DELETE /message/conversation": boolean,
	/** Response«object» */
	"POST /group/create": response(z.object({})),
	"POST /group/invite": response(z.array(memberResult)),
	"POST /group/kick": response(z.array(memberResult)),
	"DELETE /group/kick": response(z.array(memberResult)),
	"POST /group/leave": boolean,
	"DELETE /group/leave": boolean,
	"POST /group/destroy": boolean,
	"DELETE /group/destroy": boolean,
	/** PagingResponse«List«群成员格式»» */
	"GET /group/member_list": response(z.array(member)).extend({ cursor: z.string().optional() }),
	/** ListResponse«long» */
	"GET /group/user_joined": response(z.array(int64)),
	/** User information (user.md 3.25) */
	"GET /user/profile": response(
		z.object({
			user_id: int64,
			username: z.string(),
			nick_name: z.string(),
			avatar: z.string(),
			description: z.string(),
			public_info: z.string(),
			private_info: z.string().optional(),
			email: z.string(),
			mobile: z.string(),
		}),
	),
	"POST /user/profile": boolean,
	"PUT /user/profile": boolean,
	"POST /user/profile/batch": response(z.array(z.object({ user_id: int64, success: z.boolean(), reason: z.string() }))),
	"PUT /user/profile/batch": response(z.array(z.object({ user_id: int64, success: z.boolean(), reason: z.string() }))),
	"POST /user/nickname": boolean,
	"PUT /user/nickname": boolean,
	"POST /user/avatar": boolean,
	"PUT /user/avatar": boolean,
	"PUT /user/disable": boolean,
	"PUT /user/enable": boolean,
	/** User online info (user.md 3.22) */
	"GET /user/online_status": response(z.object({ online: z.boolean() })),
};

/** The documented shape's complaint about a 200 answer, or null if it matches (or the endpoint has none here). */
export function sourceShapeProblem(method: string, path: string, body: unknown): string | null {
	const shape = SOURCE_SHAPES[`${method} ${path}`];
	if (!shape) return null;
	const parsed = shape.safeParse(body);
	return parsed.success ? null : `${method} ${path} does not match the source's documented shape: ${JSON.stringify(parsed.error.issues)}`;
}
