import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { decodeConfig, defaults, fields, parseListenAddress } from "../../core/config/OrchestratorConfig.js"
import { locateJsonError } from "../../core/config/JsonLocate.js"
import * as FastCheck from "effect/FastCheck"

const sqlite = { BackendDB: "sqlite", SQLite3DataFile: "/tmp/x.db" }
const decode = (value: unknown, env: Record<string, string> = {}) =>
  decodeConfig("orc.conf.json", JSON.stringify(value), env)
const message = (r: ReturnType<typeof decode>) => (Either.isLeft(r) ? r.left.message : "decoded")

describe("OrchestratorConfig", () => {
  it("applies orchestrator's defaults", () => {
    const r = decode(sqlite)
    expect(Either.isRight(r)).toBe(true)
    const c = Either.getOrThrow(r).config
    expect(c.ListenAddress).toBe(":3000")
    expect(c.InstancePollSeconds).toBe(5)
    expect(c.DefaultRaftPort).toBe(10008)
    expect(c.RaftBind).toBe("127.0.0.1:10008")
    expect(c.RecoveryPeriodBlockSeconds).toBe(3600)
    expect(c.DiscoveryMaxConcurrency).toBe(300)
    expect(c.MySQLConnectTimeoutSeconds).toBe(2)
    expect(c.PowerAuthUsers).toEqual(["*"])
    expect(defaults.BackendDB).toBe("mysql")
  })

  it("names the key and the expected form for a wrong type", () => {
    const m = message(decode({ ...sqlite, InstancePollSeconds: "five" }))
    expect(m).toContain("orc.conf.json")
    expect(m).toContain("InstancePollSeconds: expected a positive integer (got \"five\")")
  })

  it("reports every bad key at once", () => {
    const m = message(decode({ ...sqlite, ListenAddress: 3000, RaftNodes: "a,b", DefaultRaftPort: 70000 }))
    expect(m).toContain("ListenAddress: expected an address")
    expect(m).toContain("RaftNodes: expected a list of strings")
    expect(m).toContain("DefaultRaftPort: expected a port number (1-65535) (got 70000)")
  })

  it("lists unknown keys as warnings, not errors", () => {
    const r = decode({ ...sqlite, SomeFutureKey: 1, AgentsServerPort: ":3001" })
    expect(Either.getOrThrow(r).unknownKeys).toEqual(["AgentsServerPort", "SomeFutureKey"])
  })

  it("expands ${ENV_VAR} credentials and names a missing variable", () => {
    const cfg = { ...sqlite, MySQLTopologyPassword: "${TOPO_PW}", MySQLTopologyUser: "orc" }
    expect(Either.getOrThrow(decode(cfg, { TOPO_PW: "s3cret" })).config.MySQLTopologyPassword).toBe("s3cret")
    expect(message(decode(cfg))).toContain("MySQLTopologyPassword: environment variable TOPO_PW is not set")
    // Hooks keep their ${...}: bash expands them, not the config loader.
    const hooks = { ...sqlite, PostFailoverProcesses: ["echo ${HOME} {failedHost}"] }
    expect(Either.getOrThrow(decode(hooks)).config.PostFailoverProcesses).toEqual(["echo ${HOME} {failedHost}"])
  })

  it("checks rules that span keys", () => {
    expect(message(decode({ BackendDB: "sqlite" }))).toContain("SQLite3DataFile: required when BackendDB is sqlite")
    expect(message(decode({ BackendDB: "mysql" }))).toContain("MySQLOrchestratorHost: required")
    expect(message(decode({ ...sqlite, RaftEnabled: true }))).toContain(
      "RaftDataDir: must be defined since raft is enabled"
    )
    expect(message(decode({ ...sqlite, BackendDB: "postgres" }))).toContain("BackendDB: expected \"sqlite\" or \"mysql\"")
    // orchestrator: any value containing "sqlite" selects SQLite.
    expect(Either.isRight(decode({ ...sqlite, BackendDB: "sqlite3" }))).toBe(true)
    expect(message(decode({ ...sqlite, FailMasterPromotionOnLagMinutes: 5 }))).toContain(
      "FailMasterPromotionOnLagMinutes: nonzero requires ReplicationLagQuery to be set"
    )
    expect(Either.isRight(decode({ ...sqlite, FailMasterPromotionOnLagMinutes: 5, ReplicationLagQuery: "SELECT 1" }))).toBe(true)
  })

  it("names the file and the position of a JSON syntax error", () => {
    const r = decodeConfig("/etc/orc.json", "{\n  \"ListenAddress\": \":3000\",\n  \"Debug\": tru\n}", {})
    expect(Either.isLeft(r)).toBe(true)
    expect(message(r)).toBe("cannot parse config file /etc/orc.json: line 3, column 15 (offset 44): expected 'true'")
    expect(message(decodeConfig("f.json", "[]", {}))).toContain("expected a JSON object at the top level")
    expect(message(decodeConfig("f.json", "", {}))).toContain("line 1, column 1")
  })

  it("every key has a default, so adding one is a single line", () => {
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(fields).sort())
  })

  it("parses ListenAddress forms", () => {
    expect(parseListenAddress(":3000")).toEqual({ host: undefined, port: 3000 })
    expect(parseListenAddress("127.0.0.1:3001")).toEqual({ host: "127.0.0.1", port: 3001 })
    expect(parseListenAddress("[::1]:3002")).toEqual({ host: "::1", port: 3002 })
  })
})

describe("locateJsonError", () => {
  it("agrees with JSON.parse on validity, for arbitrary JSON and for corrupted JSON", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.json(), FastCheck.nat(), FastCheck.string({ maxLength: 2 }), (text, at, junk) => {
        expect(locateJsonError(text)).toBeUndefined()
        const pos = at % (text.length + 1)
        const broken = text.slice(0, pos) + junk + text.slice(pos)
        let valid = true
        try {
          JSON.parse(broken)
        } catch {
          valid = false
        }
        expect(locateJsonError(broken) === undefined).toBe(valid)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("docs/configuration.md", () => {
  it("lists every configuration key", async () => {
    const fs = await import("node:fs")
    const doc = fs.readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8")
    const missing = Object.keys(fields).filter((k) => !doc.includes(`| \`${k}\` |`))
    expect(missing).toEqual([])
  })
})
