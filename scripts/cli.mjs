// The operator scripts' command line: flags parsed by Node's own
// util.parseArgs (strict), `--help` describing every flag (exit 0), an unknown
// flag or a typo refused with exit 2 and the nearest known flag named, and
// progress for steps that take a while. No wrangler here: any Node runs it.
import { parseArgs } from "node:util";

/**
 * @typedef {{ type: "string" | "boolean", value?: string, help: string, default?: string | boolean }} Flag
 * @typedef {{ usage: string, summary: string, flags: Record<string, Flag>, notes?: string }} Command
 */

/** The flags every script that touches local state takes. */
export const LOCAL_STATE_FLAGS = {
	remote: { type: "boolean", help: "Act on the deployed databases (needs `npx wrangler login`) instead of local state." },
	"persist-to": {
		type: "string",
		value: "DIR",
		help: "Local state folder (as given to `npm run dev -- --persist-to DIR`); default .wrangler/state.",
	},
};

/** Parses argv as `command` says; prints help and exits 0 on --help, exits 2 on a flag it does not know. */
export function parseCommand(command, argv = process.argv.slice(2)) {
	if (argv.includes("--help") || argv.includes("-h")) {
		console.log(helpText(command));
		process.exit(0);
	}
	const options = {};
	for (const [name, flag] of Object.entries(command.flags)) options[name] = { type: flag.type };
	try {
		const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false, allowNegative: false });
		for (const [name, flag] of Object.entries(command.flags))
			if (values[name] === undefined && flag.default !== undefined) values[name] = flag.default;
		return values;
	} catch (error) {
		usageError(command, refusal(command, error, argv));
	}
}

/** Exits 2 with `message` and where to find help. */
export function usageError(command, message) {
	console.error(`${message}\n${command.usage}\n(--help describes every flag)`);
	process.exit(2);
}

/** What the parser refused, in the user's words. */
function refusal(command, error, argv) {
	const known = Object.keys(command.flags);
	if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
		const given = /'([^']+)'/.exec(error.message)?.[1] ?? argv.find((a) => a.startsWith("-")) ?? "";
		const name = given.replace(/^-+/, "").split("=")[0];
		const near = nearest(name, known);
		return `unknown flag ${given}${near ? `: did you mean --${near}?` : ""}`;
	}
	if (error.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
		const given = /'([^']+)'/.exec(error.message)?.[1] ?? "";
		return `unexpected argument ${JSON.stringify(given)}: every value follows its flag (--flag VALUE)`;
	}
	if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
		const flag = /--([a-z0-9-]+)/.exec(error.message)?.[1];
		const spec = flag ? command.flags[flag] : undefined;
		if (spec?.type === "string") return `--${flag} needs a value (--${flag} ${spec.value ?? "VALUE"})`;
		if (spec?.type === "boolean") return `--${flag} takes no value`;
	}
	return error.message;
}

/** The known flag closest to `name` (edit distance ≤ 3, or the same letters with _ for -), if any. */
function nearest(name, known) {
	const normal = name.toLowerCase().replaceAll("_", "-");
	if (known.includes(normal)) return normal;
	let best;
	let bestDistance = 4;
	for (const candidate of known) {
		const d = distance(normal, candidate);
		if (d < bestDistance) [best, bestDistance] = [candidate, d];
	}
	return best;
}

function distance(a, b) {
	const row = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		let diagonal = row[0];
		row[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const above = row[j];
			row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
			diagonal = above;
		}
	}
	return row[b.length];
}

export function helpText(command) {
	const lines = [command.usage, "", command.summary, "", "Flags:"];
	const shown = Object.entries(command.flags).map(([name, flag]) => [
		`--${name}${flag.type === "string" ? ` ${flag.value ?? "VALUE"}` : ""}`,
		flag,
	]);
	const width = Math.max(...shown.map(([left]) => left.length), "--help".length) + 2;
	for (const [left, flag] of shown) {
		const fallback = flag.default !== undefined && flag.default !== false ? ` (default: ${flag.default})` : "";
		lines.push(`  ${left.padEnd(width)}${flag.help}${fallback}`);
	}
	lines.push(`  ${"--help".padEnd(width)}This text.`);
	if (command.notes) lines.push("", command.notes);
	return lines.join("\n");
}

/**
 * Runs `work`; if it takes longer than 2 s, says on stderr what is going on
 * (and how long it took, at the end), so a slow step is never silent.
 */
export async function step(label, work) {
	const started = Date.now();
	let announced = false;
	const timer = setTimeout(() => {
		announced = true;
		process.stderr.write(`${label}…\n`);
	}, 2_000);
	try {
		return await work();
	} finally {
		clearTimeout(timer);
		if (announced) process.stderr.write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
	}
}
