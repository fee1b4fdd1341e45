#!/usr/bin/env node
// The project's test command (`npm test`): builds (tsc, which type-checks the product code), type-checks
// the tests, runs every vitest suite, then prints one closing line `N passed, N failed, N skipped`.
// Exit status: non-zero when anything failed or when no test ran. Extra arguments go to vitest.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const bin = (name) => path.join(root, "node_modules", ".bin", name)
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status ?? 1

let failedChecks = 0
for (const [label, args] of [["build", ["-p", "tsconfig.build.json"]], ["typecheck", ["-p", "tsconfig.json", "--noEmit"]]]) {
  const t0 = Date.now()
  const status = run(bin("tsc"), args)
  console.log(`${label}: ${status === 0 ? "ok" : "FAILED"} (${Date.now() - t0} ms)`)
  if (status !== 0) failedChecks++
}

const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "orc-vitest-")), "report.json")
const vitestStatus = run(bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...process.argv.slice(2)
])

let passed = 0
let failed = failedChecks
let skipped = 0
try {
  const r = JSON.parse(fs.readFileSync(report, "utf8"))
  passed += r.numPassedTests
  failed += r.numFailedTests
  skipped += r.numPendingTests + r.numTodoTests
  // A suite that failed outside its tests (syntax error, failed beforeAll: its tests then show as skipped)
  // has no failed test result: count the suite itself.
  for (const suite of r.testResults ?? []) {
    if (suite.status === "failed" && !(suite.assertionResults ?? []).some((a) => a.status === "failed")) failed++
  }
} catch (e) {
  console.log(`cannot read the vitest report (${e.message})`)
  failed++
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || vitestStatus !== 0 || passed === 0 ? 1 : 0)
