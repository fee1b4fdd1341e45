/**
 * `orchestrator-client`: the orchestrator-client compatible CLI (client/cli/Cli.ts), on Node.
 * Like the original script it first reads /etc/profile.d/orchestrator-client.sh, where deployments
 * set ORCHESTRATOR_API (plain `[export] NAME=value` lines only; a shell is not run).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import { runCli } from "./Cli.js"

const profile = process.env["ORCHESTRATOR_CLIENT_PROFILE"] ?? "/etc/profile.d/orchestrator-client.sh"

/** Assignments with literal values; lines using `$`, backticks or anything else are skipped. */
const readProfile = (file: string): Record<string, string> => {
  const vars: Record<string, string> = {}
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch {
    return vars
  }
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"$`\\]*)"|'([^']*)'|([^\s"'$`\\;]*))\s*(?:#.*)?$/.exec(line)
    if (m) vars[m[1]!] = m[2] ?? m[3] ?? m[4] ?? ""
  }
  return vars
}

const user = (() => {
  try {
    return os.userInfo().username
  } catch {
    return process.env["USER"] ?? ""
  }
})()

const env = { ...process.env, ...readProfile(profile) }
runCli(process.argv.slice(2), env, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t)
}, { user, pid: process.pid }).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`orchestrator-client: ${String(e)}\n`)
    process.exitCode = 1
  }
)
