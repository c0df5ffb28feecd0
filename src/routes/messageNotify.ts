import { endpoint } from "./contract";
import { answerSend, sendBody, sendErrors, sendRules, sentData } from "./messageSend";

export const messageNotify = endpoint({
	methods: ["POST", "PUT"],
	path: "/message/notify",
	tag: "Messages",
	summary: "Send a system notification (admin)",
	description: `Admin only (a user_id header is 403). From the system account 0 unless \`from_user_id\` names a user; messages are flagged \`is_system\`, count as unread, and only an admin may recall them. Same body and rules as /message/send, without operations.${sendRules}`,
	access: "token",
	body: sendBody,
	...sentData,
	errors: { ...sendErrors, 403: "Not the app admin token." },
	handle: (input) => answerSend(input, "notify"),
});
