// Every relative link in the README and docs/ (and the other Markdown the
// repository ships) resolves: the file exists, and an #anchor names a heading
// (GitHub's slug) or an <a id> of that file. And no document points outside
// the repository's own files for its rules.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const documents = [
	"README.md",
	"client/README.md",
	"bench/NOTES.md",
	...readdirSync("docs")
		.filter((f) => f.endsWith(".md"))
		.map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks (links in code are examples, not links). */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2… */
function anchorsOf(markdown: string): Set<string> {
	const anchors = new Set<string>();
	const seen = new Map<string, number>();
	for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
		const text = (heading as string).replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
		const slug = text
			.toLowerCase()
			.replace(/[^\p{L}\p{N}\s_-]/gu, "")
			.replace(/\s/g, "-");
		const n = seen.get(slug) ?? 0;
		seen.set(slug, n + 1);
		anchors.add(n === 0 ? slug : `${slug}-${n}`);
	}
	for (const [, id] of markdown.matchAll(/<a id="([^"]+)"/g)) anchors.add(id as string);
	return anchors;
}

describe("the documentation's links", () => {
	it.each(documents)("every relative link in %s resolves, anchors included", (file) => {
		const text = readFileSync(file, "utf8");
		const links = [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
		const broken: string[] = [];
		for (const link of links) {
			if (/^(https?:|mailto:)/.test(link)) continue;
			const [path, anchor] = link.split("#") as [string, string | undefined];
			const target = path === "" ? file : normalize(join(dirname(file), path));
			if (!existsSync(target)) {
				broken.push(`${link} (no ${target})`);
				continue;
			}
			if (
				anchor !== undefined &&
				statSync(target).isFile() &&
				target.endsWith(".md") &&
				!anchorsOf(readFileSync(target, "utf8")).has(anchor)
			)
				broken.push(`${link} (no heading #${anchor} in ${target})`);
		}
		expect(broken).toEqual([]);
	});

	it("the README fits on a page, and no document cites files a clone does not have", () => {
		expect(readFileSync("README.md", "utf8").split("\n").length).toBeLessThanOrEqual(250);
		for (const file of documents) {
			const text = readFileSync(file, "utf8");
			expect(text, file).not.toMatch(/\bSPEC\b|PLATFORM-NOTES|§\d/);
		}
	});

	it("the checker finds a broken link and a missing anchor", () => {
		expect(anchorsOf("# What it costs on Cloudflare\n## Per operation\n## Per operation")).toEqual(
			new Set(["what-it-costs-on-cloudflare", "per-operation", "per-operation-1"]),
		);
		expect(anchorsOf('## 503 or 500\n<a id="x"></a>')).toEqual(new Set(["503-or-500", "x"]));
	});
});
