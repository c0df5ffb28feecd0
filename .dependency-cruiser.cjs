// The layers of src/, bottom first: a module may import its own layer and the
// ones below it, never one above, and no import circle is allowed.
// `npm run lint` runs this (dependency-cruiser).
const layers = [
	["base", "^src/(limits|clock|sha256|settings|protocol)\\.ts$"],
	["http", "^src/http/"],
	["rateLimits", "^src/rateLimits/"],
	["db", "^src/db/"],
	["shapes", "^src/shapes/"],
	["auth", "^src/auth/"],
	["callbacks", "^src/callbacks/"],
	["realtime", "^src/realtime/"],
	["conversation", "^src/conversation/"],
	["dedupe", "^src/dedupe/"],
	["flows", "^src/(messages|groups|users|apps)/"],
	["routes", "^src/routes/"],
	["worker", "^src/index\\.ts$"],
];

module.exports = {
	forbidden: [
		{ name: "no-circular", severity: "error", from: {}, to: { circular: true } },
		...layers.slice(0, -1).map(([name, path], i) => ({
			name: `no-upward-from-${name}`,
			comment: `${name} must not import a layer above it`,
			severity: "error",
			from: { path },
			to: { path: layers.slice(i + 1).map(([, above]) => above) },
		})),
	],
	options: {
		doNotFollow: { path: "node_modules" },
		exclude: { path: "node_modules" },
		tsPreCompilationDeps: true,
		tsConfig: { fileName: "tsconfig.json" },
	},
};
