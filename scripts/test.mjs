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

const work = fs.mkdtempSync(path.join(os.tmpdir(), "orc-vitest-"))
// Where the MariaDB harness records a server that crashed (test/harness/MariaDbInstance.ts, recordCrash).
const crashDir = path.join(work, "mariadbd-crashes")
fs.mkdirSync(crashDir)
const vitest = (report, args) =>
  spawnSync(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ORC_MARIADB_CRASH_DIR: crashDir }
  }).status ?? 1

/** Per test file: its counts; a suite that failed outside its tests (syntax error, failed beforeAll) counts once. */
const readReport = (report) => {
  const r = JSON.parse(fs.readFileSync(report, "utf8"))
  return (r.testResults ?? []).map((suite) => {
    const as = suite.assertionResults ?? []
    const count = (...states) => as.filter((a) => states.includes(a.status)).length
    const failedTests = count("failed")
    return {
      file: suite.name,
      passed: count("passed"),
      failed: failedTests + (suite.status === "failed" && failedTests === 0 ? 1 : 0),
      skipped: count("pending", "skipped", "todo")
    }
  })
}

let vitestStatus = vitest(path.join(work, "report.json"), process.argv.slice(2))
let files
try {
  files = readReport(path.join(work, "report.json"))
} catch (e) {
  console.log(`cannot read the vitest report (${e.message})`)
  files = [{ file: "(report)", passed: 0, failed: 1, skipped: 0 }]
}

// MariaDB 10.11.19 segfaults now and then under these tests (docs/testing.md, "When mariadbd crashes"). A test file
// that failed while one of its servers crashed is run once more; a file that fails without a crash is never re-run.
const crashes = fs.readdirSync(crashDir).map((f) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(crashDir, f), "utf8"))
  } catch {
    return { testPath: "", key: f, report: "" }
  }
})
const rerun = files.filter((f) => f.failed > 0 && crashes.some((c) => c.testPath === f.file)).map((f) => f.file)
if (rerun.length > 0) {
  for (const c of crashes.filter((x) => rerun.includes(x.testPath))) {
    console.log(`mariadbd ${c.key} crashed under ${path.relative(root, c.testPath)}:\n${c.report.split("\n").slice(0, 12).join("\n")}`)
  }
  console.log(`re-running ${rerun.length} test file(s) whose MariaDB server crashed: ${rerun.map((f) => path.relative(root, f)).join(", ")}`)
  const second = path.join(work, "report-rerun.json")
  vitestStatus = vitest(second, rerun)
  try {
    files = [...files.filter((f) => !rerun.includes(f.file)), ...readReport(second)]
  } catch (e) {
    console.log(`cannot read the re-run's vitest report (${e.message})`)
    files.push({ file: "(re-run report)", passed: 0, failed: 1, skipped: 0 })
  }
  const others = files.filter((f) => !rerun.includes(f.file) && f.failed > 0)
  // The first run's exit status stands for the files that were not re-run.
  if (others.length > 0) vitestStatus = 1
}

const sum = (k) => files.reduce((n, f) => n + f[k], 0)
const passed = sum("passed")
const failed = failedChecks + sum("failed")
const skipped = sum("skipped")
if (rerun.length > 0) console.log(`(${rerun.length} file(s) re-run after a mariadbd crash; counts are from the re-run)`)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || vitestStatus !== 0 || passed === 0 ? 1 : 0)
