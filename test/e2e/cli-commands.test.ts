/** `orchestrator -c <command>` against a SQLite backend, without a running service. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runOrchestrator } from "../support/nodeProcess.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-cli-"))
const config = path.join(dir, "c.json")
fs.writeFileSync(config, JSON.stringify({ BackendDB: "sqlite", SQLite3DataFile: path.join(dir, "b.db") }))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const cli = (...args: Array<string>) => runOrchestrator(["--config", config, ...args])

describe("orchestrator -c", () => {
  it("runs backend commands with orchestrator's flags and prints keys", async () => {
    const begun = await cli("-c", "begin-downtime", "-i", "db1:3306", "--reason", "maint", "--duration", "1h")
    expect(begun).toMatchObject({ code: 0, stdout: "db1:3306\n" })
    expect((await cli("-c", "tag", "-i", "db1:3306", "--tag", "role=oltp")).code).toBe(0)
    expect((await cli("-c", "tags", "-i", "db1:3306")).stdout).toBe("role=oltp\n")
    expect((await cli("-c", "check-global-recoveries")).stdout).toBe("enabled\n")
    expect((await cli("-c", "end-downtime", "-i", "db1")).stdout).toBe("db1:3306\n")
  }, 300_000)

  it("names a bad flag value and an unknown command, exit 1", async () => {
    const bad = await cli("-c", "end-downtime", "-i", "db1:99999")
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("port: expected a port number (1-65535), got \"99999\"")
    const unknown = await cli("-c", "bogus")
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain("Unknown command or missing flags: bogus")
  }, 120_000)
})
