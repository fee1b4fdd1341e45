/**
 * The node as users run it: bin/orchestrator.js over the build, one SQLite node, real HTTP.
 */
import Database from "better-sqlite3"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runOrchestrator, startNode, type NodeProcess } from "../support/nodeProcess.js"

const get = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init)
  return { status: r.status, type: r.headers.get("content-type"), body: await r.text() }
}

describe("a single SQLite node", () => {
  let node: NodeProcess
  beforeAll(async () => {
    const t0 = Date.now()
    node = await startNode({ InstancePollSeconds: 5, SomeKeyFromAnOlderVersion: true })
    console.log(`node healthy after ${Date.now() - t0} ms`)
  })
  afterAll(async () => {
    if (node.child.exitCode === null) await node.stop("SIGKILL")
  })

  it("answers health and status with orchestrator's envelope", async () => {
    const health = await get(`${node.url}/api/health`)
    expect(health.status).toBe(200)
    expect(health.type).toBe("application/json; charset=UTF-8")
    const body = JSON.parse(health.body)
    expect(Object.keys(body)).toEqual(["Code", "Message", "Details"])
    expect(body.Code).toBe("OK")
    expect(body.Message).toBe("Application node is healthy")
    expect(body.Details.Healthy).toBe(true)
    expect(body.Details.IsActiveNode).toBe(true)
    expect(body.Details.AvailableNodes[0].DBBackend).toBe("sqlite")
    const status = JSON.parse((await get(`${node.url}/api/status`)).body)
    expect(status.Details.Token).toBe(body.Details.Token)
  })

  it("is the leader without raft: leader-check 200 \"OK\", also with an error code", async () => {
    expect(await get(`${node.url}/api/leader-check`)).toMatchObject({ status: 200, body: "\"OK\"" })
    expect(await get(`${node.url}/api/leader-check/503`)).toMatchObject({ status: 200, body: "\"OK\"" })
    expect(await get(`${node.url}/api/routed-leader-check`)).toMatchObject({ status: 200, body: "\"OK\"" })
    expect(await get(`${node.url}/api/lb-check`)).toMatchObject({ status: 200, body: "\"OK\"" })
    expect(await get(`${node.url}/api/_ping/`)).toMatchObject({ status: 200, body: "\"OK\"" })
  })

  it("answers a malformed parameter with a 400 envelope naming it, unknown paths with 404", async () => {
    for (const code of ["abc", "99", "600", "-1", "1000"]) {
      const r = await get(`${node.url}/api/leader-check/${code}`)
      expect(r.status).toBe(400)
      const body = JSON.parse(r.body)
      expect(body.Code).toBe("ERROR")
      expect(body.Message).toContain("errorStatusCode: expected an HTTP status code (100-599)")
    }
    expect(await get(`${node.url}/api/no-such-route`)).toMatchObject({ status: 404, body: "404 page not found\n" })
    expect(await get(`${node.url}/nothing`)).toMatchObject({ status: 404 })
    expect((await get(`${node.url}/api/health`, { method: "POST" })).status).toBe(404)
    expect((await get(`${node.url}/api/${"x".repeat(9000)}`)).status).toBe(414)
    const big = await get(`${node.url}/api/health`, { method: "POST", body: "x".repeat(2_000_000) })
    expect(big.status).toBe(413)
    expect(big.body).toContain("exceeds MaxRequestBodyBytes")
    const head = await fetch(`${node.url}/api/leader-check`, { method: "HEAD" })
    expect(head.status).toBe(200)
    // Still healthy after the bad input.
    expect((await get(`${node.url}/api/health`)).status).toBe(200)
  })

  it("upserts its node-health row every second", async () => {
    const db = new Database(path.join(node.dir, "backend.sqlite3"), { readonly: true, fileMustExist: true })
    try {
      const read = () =>
        db.prepare("SELECT incrementing_indicator AS n, last_seen_active AS seen FROM node_health").get() as {
          n: number
          seen: number
        }
      const first = read()
      await new Promise((r) => setTimeout(r, 2200))
      const second = read()
      expect(second.n - first.n).toBeGreaterThanOrEqual(2)
      expect(second.seen).toBeGreaterThan(first.seen)
    } finally {
      db.close()
    }
  })

  it("logs one JSON line per event, naming unknown config keys once", () => {
    const lines = node.output().trim().split("\n").filter((l) => l !== "")
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow()
    const warnings = lines.filter((l) => l.includes("SomeKeyFromAnOlderVersion"))
    expect(warnings.length).toBe(1)
  })

  it("serves Prometheus metrics and health probes", async () => {
    await get(`${node.url}/api/leader-check`)
    const m = await get(`${node.url}/metrics`)
    expect(m.status).toBe(200)
    expect(m.type).toContain("text/plain; version=0.0.4")
    expect(m.body).toMatch(/orchestrator_http_requests_total\{route="leaderCheck",code="2xx"\} \d+/)
    expect(m.body).toContain("# TYPE process_cpu_user_seconds_total counter")
    expect(m.body).toContain("nodejs_eventloop_lag_seconds")
    expect(await get(`${node.url}/health/live`)).toMatchObject({ status: 200 })
    expect(JSON.parse((await get(`${node.url}/health/ready`)).body)).toEqual({ status: "ready", backend: true, leaderKnown: true })
    expect(await get(`${node.url}/health/leader`)).toMatchObject({ status: 200 })
  })

  it("exits 0 on SIGTERM", async () => {
    const r = await node.stop("SIGTERM")
    console.log(`SIGTERM to exit: ${r.millis} ms`)
    expect(r.code).toBe(0)
  })
})

describe("shutdown on SIGINT", () => {
  it("exits 0", async () => {
    const node = await startNode({})
    const r = await node.stop("SIGINT")
    expect(r.code).toBe(0)
  })
})

describe("basic authentication", () => {
  it("keeps health and leader checks open and asks for credentials elsewhere", async () => {
    const node = await startNode({ AuthenticationMethod: "basic", HTTPAuthUser: "ops", HTTPAuthPassword: "pw" })
    try {
      expect((await get(`${node.url}/api/health`)).status).toBe(200)
      expect((await get(`${node.url}/api/leader-check`)).status).toBe(200)
      const multiMissingUser = await runOrchestrator(["--help"])
      expect(multiMissingUser.code).toBe(0)
    } finally {
      expect((await node.stop()).code).toBe(0)
    }
  })
})

describe("bad configuration", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-badconf-"))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const write = (name: string, text: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    return file
  }

  it("a wrong type exits non-zero naming the key", async () => {
    const file = write("five.json", JSON.stringify({ BackendDB: "sqlite", SQLite3DataFile: "x.db", InstancePollSeconds: "five" }))
    const r = await runOrchestrator(["--config", file, "http"])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("InstancePollSeconds: expected a positive integer (got \"five\")")
  })

  it("invalid JSON names the file and the position", async () => {
    const file = write("broken.json", "{\n  \"BackendDB\": \"sqlite\",\n  \"SQLite3DataFile\": \"x.db\"\n  \"Debug\": true\n}\n")
    const r = await runOrchestrator([`-config=${file}`, "http"])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`cannot parse config file ${file}: line 4, column 3`)
  })

  it("a missing file is named", async () => {
    const r = await runOrchestrator(["--config", path.join(dir, "absent.json"), "http"])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("absent.json")
  })

  it("raft mode refuses -c commands with orchestrator's message", async () => {
    const file = write("raft.json", JSON.stringify({ BackendDB: "sqlite", SQLite3DataFile: "x.db", RaftEnabled: true, RaftDataDir: dir }))
    const r = await runOrchestrator(["--config", file, "-c", "clusters"])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Orchestrator configured to run raft (\"RaftEnabled\": true)")
  })

  it("multi authentication without HTTPAuthUser stops the node with orchestrator's message", async () => {
    const file = write("multi.json", JSON.stringify({ BackendDB: "sqlite", SQLite3DataFile: path.join(dir, "m.db"), AuthenticationMethod: "multi" }))
    const r = await runOrchestrator(["--config", file, "http"])
    expect(r.code).toBe(1)
    expect(r.stdout + r.stderr).toContain("AuthenticationMethod is configured as 'multi' but HTTPAuthUser undefined")
  })

  it("--version and --help", async () => {
    const v = await runOrchestrator(["--version"])
    expect(v.code).toBe(0)
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const h = await runOrchestrator(["--help"])
    expect(h.code).toBe(0)
    expect(h.stdout).toContain("orchestrator [--config FILE] http")
    const bad = await runOrchestrator(["--bogus"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("flag provided but not defined: -bogus")
  })
})
