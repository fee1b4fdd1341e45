/**
 * End to end: replication and instance control routes (orchestrator-compat §2.5) of the real `orchestrator`
 * binary (dist/; build first) against a real MariaDB master with two GTID replicas, single node without raft.
 * Each call is checked on the servers themselves (SHOW SLAVE STATUS, @@read_only, SHOW BINARY LOGS), and the
 * orchestrator-client commands that map to these routes run through the installed `orchestrator-client` bin (and,
 * to spare Node start-ups, through the same CLI code in process).
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect } from "effect"
import { runCli } from "../../client/cli/Cli.js"
import { make as makeClient } from "../../client/sdk/Client.js"
import { type MariaDbInstance, Shape, startTopology, type Topology } from "../harness/Topology.js"
import { type NodeProcess, repoRoot, startNode } from "../support/nodeProcess.js"

let topo: Topology
let node: NodeProcess

type Envelope = { readonly status: number; readonly Code: string; readonly Message: string; readonly Details: unknown }
type InstanceJson = Record<string, unknown> & { readonly Key: { readonly Hostname: string; readonly Port: number } }

const get = async (p: string) => {
  const r = await fetch(`${node.url}/api/${p}`)
  const text = await r.text()
  return { status: r.status, text, body: JSON.parse(text) as unknown }
}
const call = async (p: string): Promise<Envelope> => {
  const r = await get(p)
  return { status: r.status, ...(r.body as Omit<Envelope, "status">) }
}
/** An OK envelope, or the test fails with the error message the node gave. */
const okCall = async (p: string): Promise<Envelope> => {
  const e = await call(p)
  if (e.Code !== "OK") throw new Error(`${p}: ${e.status} ${e.Message}`)
  return e
}

const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 15_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const at = (i: MariaDbInstance) => `127.0.0.1/${i.port}`
const threads = async (i: MariaDbInstance) => {
  const s = await i.slaveStatus()
  return { io: s?.["Slave_IO_Running"], sql: s?.["Slave_SQL_Running"], host: s?.["Master_Host"], delay: s?.["SQL_Delay"] }
}
const admin = { user: "admin" } as const

/** orchestrator-client's code (client/cli/Cli.ts, what the bin runs) in this process, against this node. */
const cli = async (...args: ReadonlyArray<string>) => {
  let stdout = ""
  let stderr = ""
  const code = await runCli(args, { ORCHESTRATOR_API: node.url }, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t)
  }, { user: "e2e", pid: process.pid })
  return { code, stdout, stderr }
}

/** The installed orchestrator-client (bin/orchestrator-client.js over dist/) against this node. */
const client = (...args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin/orchestrator-client.js"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ORCHESTRATOR_API: node.url, ORCHESTRATOR_CLIENT_PROFILE: "/nonexistent" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

beforeAll(async () => {
  topo = await startTopology({ shape: Shape.masterWithReplicas(2) })
  node = await startNode({ ...topo.orchestratorConfig, InstancePollSeconds: 1, MySQLConnectTimeoutSeconds: 1 })
  await okCall(`discover/${at(topo.master)}`)
  await waitFor("the cluster of 3", async () => {
    const r = await get(`cluster/${topo.master.key}`)
    return r.status === 200 && Array.isArray(r.body) && r.body.length === 3 ? true : undefined
  })
  await topo.master.query("CREATE DATABASE ctl", [], admin)
  await topo.master.query("CREATE TABLE ctl.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB", [], admin)
  await topo.syncReplicas()
}, 120_000)
afterAll(async () => {
  await node?.stop()
  await topo?.stop()
})

describe("replication control through the HTTP API, checked on the servers", () => {
  it("stop-replica / start-replica (and the -slave spellings) stop and start both threads", async () => {
    const r = topo.replicas[0]!
    const stopped = await okCall(`stop-replica/${at(r)}`)
    expect(stopped.Message).toBe(`Replica stopped: ${r.key}`)
    expect(await threads(r)).toMatchObject({ io: "No", sql: "No" })
    expect(stopped.Details).toMatchObject({ Key: { Port: r.port }, ReplicationSQLThreadRuning: false, ReplicationIOThreadState: 0 })

    const started = await okCall(`start-slave/${at(r)}`)
    expect(started.Message).toBe(`Replica started: ${r.key}`)
    expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes" })
    expect(started.Details).toMatchObject({ ReplicationSQLThreadRuning: true, ReplicationIOThreadRuning: true })

    expect((await okCall(`restart-replica/${at(r)}`)).Message).toBe(`Replica restarted: ${r.key}`)
    expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes" })

    expect(await call(`stop-replica/${at(topo.master)}`)).toMatchObject({
      status: 500,
      Code: "ERROR",
      Message: `instance is not a replica: ${topo.master.key}`
    })
    expect(await call(`stop-replica/127.0.0.1/0`)).toMatchObject({ status: 400, Message: expect.stringContaining("port: expected") })
  })

  it("set-writeable / set-read-only flip @@read_only", async () => {
    const r = topo.replicas[1]!
    const writeable = await okCall(`set-writeable/${at(r)}`)
    expect(writeable).toMatchObject({ Message: "Server set as writeable", Details: { ReadOnly: false } })
    expect((await r.query("SELECT @@global.read_only AS ro"))[0]).toEqual({ ro: 0 })
    const readOnly = await okCall(`set-read-only/${at(r)}`)
    expect(readOnly).toMatchObject({ Message: "Server set as read-only", Details: { ReadOnly: true } })
    expect((await r.query("SELECT @@global.read_only AS ro"))[0]).toEqual({ ro: 1 })
  })

  it("detach-replica rewrites the master host to //host; reattach-replica restores it without losing a write", async () => {
    const r = topo.replicas[0]!
    const detached = await okCall(`detach-replica/${at(r)}`)
    expect(detached.Message).toBe(`Replica detached: ${r.key}`)
    expect(detached.Details).toMatchObject({ MasterKey: { Hostname: "//127.0.0.1", Port: topo.master.port } })
    expect(await threads(r)).toMatchObject({ host: "//127.0.0.1", sql: "Yes" })
    expect((await threads(r)).io).not.toBe("Yes")
    expect((await call(`detach-replica-master-host/${at(r)}`)).Message).toBe(`instance already detached: ${r.key}`)

    await topo.master.query("INSERT INTO ctl.t VALUES (100, 'while detached')", [], admin)
    const reattached = await okCall(`reattach-slave/${at(r)}`)
    expect(reattached.Message).toBe(`Replica reattached: ${r.key}`)
    expect(reattached.Details).toMatchObject({ MasterKey: { Hostname: "127.0.0.1", Port: topo.master.port } })
    expect(await threads(r)).toMatchObject({ host: "127.0.0.1", io: "Yes", sql: "Yes" })
    await topo.syncReplicas()
    expect(await r.query("SELECT v FROM ctl.t WHERE id = 100", [], admin)).toEqual([{ v: "while detached" }])
    expect((await call(`reattach-replica-master-host/${at(r)}`)).Message).toBe(`instance does not seem to be detached: ${r.key}`)
  })

  it("skip-query skips the one event that broke replication, then replication runs again", async () => {
    const r = topo.replicas[1]!
    expect((await call(`skip-query/${at(r)}`)).Message).toBe(`Replication SQL thread is running on ${r.key}`)
    // A row only the replica has (not binlogged), then the master writes the same key: duplicate key on the replica.
    const conn = await r.connect(admin)
    try {
      await conn.query("SET SESSION sql_log_bin = 0")
      await conn.query("INSERT INTO ctl.t VALUES (1, 'replica only')")
    } finally {
      conn.destroy()
    }
    await topo.master.query("INSERT INTO ctl.t VALUES (1, 'from master')", [], admin)
    await waitFor("the SQL thread to stop on the duplicate key", async () => ((await threads(r)).sql === "No" ? true : undefined))
    const broken = await r.slaveStatus()
    expect(broken?.["Last_SQL_Errno"]).toBe(1062)

    const skipped = await okCall(`skip-query/${at(r)}`)
    expect(skipped.Message).toBe(`Query skipped on ${r.key}`)
    expect(skipped.Details).toMatchObject({ ReplicationSQLThreadRuning: true, ReplicationIOThreadRuning: true })
    expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes" })
    await topo.master.query("INSERT INTO ctl.t VALUES (2, 'after skip')", [], admin)
    await topo.syncReplicas()
    expect(await r.query("SELECT id, v FROM ctl.t WHERE id IN (1, 2) ORDER BY id", [], admin)).toEqual([
      { id: 1, v: "replica only" },
      { id: 2, v: "after skip" }
    ])
  })

  it("flush-binary-logs rotates; purge-binary-logs refuses what a replica still needs, unless forced", async () => {
    const m = topo.master
    const before = String((await m.query("SHOW MASTER STATUS"))[0]?.["File"])
    const flushed = await okCall(`flush-binary-logs/${at(m)}`)
    const after = String((await m.query("SHOW MASTER STATUS"))[0]?.["File"])
    expect(after).not.toBe(before)
    expect(flushed).toMatchObject({ Message: `Binary logs flushed on: ${m.key}`, Details: { SelfBinlogCoordinates: { LogFile: after } } })

    const refused = await call(`purge-binary-logs/${at(m)}/mysql-bin.999999`)
    expect(refused.status).toBe(500)
    expect(refused.Message).toMatch(
      new RegExp(`^Unsafe to purge binary logs on ${m.key} up to mysql-bin\\.999999 because replica 127\\.0\\.0\\.1:\\d+ has only applied up to mysql-bin\\.\\d+:\\d+$`)
    )
    // Forced, the check is skipped and the server itself refuses a file it does not have.
    const forced = await call(`purge-binary-logs/${at(m)}/mysql-bin.999999?force=true`)
    expect(forced.Code).toBe("ERROR")
    expect(forced.Message).not.toContain("Unsafe")

    // Once both replicas execute from the new file (and this node has seen it), the older files can go.
    await m.query("INSERT INTO ctl.t VALUES (3, 'new binlog')", [], admin)
    await topo.syncReplicas()
    for (const r of topo.replicas) await okCall(`refresh/${at(r)}`)
    const purged = await okCall(`purge-binary-logs/${at(m)}/${after}`)
    expect(purged.Details).toMatchObject({ Key: { Port: m.port } })
    // MariaDB keeps a file until its binlog checkpoint moves on (InnoDB durability, asynchronous after a rotation):
    // the purge may leave it for a moment, and a repeated purge removes it.
    await waitFor("the old binlogs to be purged", async () => {
      const logs = (await m.query("SHOW BINARY LOGS")).map((b) => b["Log_name"])
      if (logs.length === 1 && logs[0] === after) return true
      await okCall(`purge-binary-logs/${at(m)}/${after}`)
      return undefined
    }, 10_000)
    for (const r of topo.replicas) expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes" })
  })

  it("can-replicate-from answers \"true\" with the destination key, or the reason it cannot", async () => {
    const [a, b] = topo.replicas as [MariaDbInstance, MariaDbInstance]
    expect(await call(`can-replicate-from/${at(a)}/${at(b)}`)).toEqual({
      status: 200,
      Code: "OK",
      Message: "true",
      Details: { Hostname: "127.0.0.1", Port: b.port }
    })
    expect((await okCall(`can-replicate-from-gtid/${at(a)}/${at(topo.master)}`)).Message).toBe("true")
    expect(await call(`can-replicate-from/${at(a)}/${at(a)}`)).toMatchObject({
      status: 500,
      Message: `instance cannot replicate from itself: ${a.key}`
    })
    expect((await call(`can-replicate-from/${at(a)}/127.0.0.1/1`)).Message).toBe("Cannot read instance: 127.0.0.1:1")
  })

  it("delay-replication sets SQL_Delay keeping the threads running; bad seconds are a 400", async () => {
    const r = topo.replicas[1]!
    expect(await call(`delay-replication/${at(r)}/60`)).toMatchObject({ Code: "OK", Message: `Replication delayed: ${r.key}`, Details: 60 })
    expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes", delay: 60 })
    await okCall(`delay-replication/${at(r)}/0`)
    expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes", delay: 0 })
    expect(await call(`delay-replication/${at(r)}/-1`)).toMatchObject({
      status: 400,
      Message: "seconds: expected a non-negative integer, got \"-1\""
    })
  })

  it("stop-replica-nice drains the relay log; kill-query interrupts a running statement", async () => {
    const a = topo.replicas[0]!
    expect((await okCall(`stop-replica-nice/${at(a)}`)).Message).toBe(`Replica stopped nicely: ${a.key}`)
    const st = await a.slaveStatus()
    expect(st).toMatchObject({ Slave_IO_Running: "No", Slave_SQL_Running: "No" })
    expect([st?.["Relay_Master_Log_File"], st?.["Exec_Master_Log_Pos"]]).toEqual([st?.["Master_Log_File"], st?.["Read_Master_Log_Pos"]])
    await okCall(`start-replica/${at(a)}`)

    const conn = await topo.master.connect(admin)
    try {
      const [rows] = await conn.query("SELECT CONNECTION_ID() AS id")
      const id = (rows as Array<{ id: number }>)[0]!.id
      const t0 = Date.now()
      const sleeping = conn.query("SELECT SLEEP(30) AS s").then(() => "ended", () => "interrupted")
      await waitFor("the SLEEP to run", async () => {
        const list = await topo.master.query("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?", [id], admin)
        return String(list[0]?.["INFO"] ?? "").includes("SLEEP") ? true : undefined
      })
      expect((await okCall(`kill-query/${at(topo.master)}/${id}`)).Message).toBe(`Query killed on : ${topo.master.key}`)
      expect(["ended", "interrupted"]).toContain(await sleeping)
      expect(Date.now() - t0).toBeLessThan(20_000)
    } finally {
      conn.destroy()
    }
  })

  it("semi-sync switches, disable-gtid / enable-gtid, and MariaDB's refusal of the MySQL errant-GTID operations", async () => {
    const [a, b] = topo.replicas as [MariaDbInstance, MariaDbInstance]
    const m = topo.master
    const variable = async (i: MariaDbInstance, name: string) => (await i.query(`SELECT @@global.${name} AS v`))[0]?.["v"]
    expect(await okCall(`enable-semi-sync-master/${at(m)}`)).toMatchObject({
      Message: "master semi-sync set to true",
      Details: { SemiSyncMasterEnabled: true }
    })
    expect(await variable(m, "rpl_semi_sync_master_enabled")).toBe(1)
    expect(await okCall(`enable-semi-sync-replica/${at(b)}`)).toMatchObject({
      Message: "replica semi-sync set to true",
      Details: { SemiSyncReplicaEnabled: true }
    })
    expect(await variable(b, "rpl_semi_sync_slave_enabled")).toBe(1)
    await okCall(`disable-semi-sync-replica/${at(b)}`)
    await okCall(`disable-semi-sync-master/${at(m)}`)
    expect([await variable(m, "rpl_semi_sync_master_enabled"), await variable(b, "rpl_semi_sync_slave_enabled")]).toEqual([0, 0])
    await waitFor("b's IO thread back after the semi-sync restart", async () => ((await threads(b)).io === "Yes" ? true : undefined))

    expect((await okCall(`disable-gtid/${at(a)}`)).Message).toBe(`Disabled GTID on ${a.key}`)
    expect(await a.slaveStatus()).toMatchObject({ Using_Gtid: "No", Slave_IO_Running: "Yes", Slave_SQL_Running: "Yes" })
    expect((await call(`disable-gtid/${at(a)}`)).Message).toBe(`${a.key} is not using GTID`)
    await m.query("INSERT INTO ctl.t VALUES (200, 'file:pos')", [], admin)
    expect((await okCall(`enable-gtid/${at(a)}`)).Message).toBe(`Enabled GTID on ${a.key}`)
    expect(await a.slaveStatus()).toMatchObject({ Using_Gtid: "Slave_Pos", Slave_IO_Running: "Yes", Slave_SQL_Running: "Yes" })
    await topo.syncReplicas()
    expect(await a.query("SELECT v FROM ctl.t WHERE id = 200", [], admin)).toEqual([{ v: "file:pos" }])

    expect((await call(`gtid-errant-reset-master/${at(a)}`)).Message).toBe(
      `gtid-errant-reset-master will not operate on ${a.key} because no errant GTID is found`
    )
    expect((await call(`gtid-errant-inject-empty/${at(a)}`)).Message).toBe(
      `gtid-errant-inject-empty will not operate on ${a.key} because no errant GTID is found`
    )
    expect((await call(`locate-gtid-errant/${at(a)}`)).Message).toBe(`locate-errant-gtid: no errant-gtid on ${a.key}`)
  })

  it("reset-replica makes the replica forget its master", async () => {
    const b = topo.replicas[1]!
    const reset = await okCall(`reset-replica/${at(b)}`)
    expect(reset).toMatchObject({ Message: `Replica reset on ${b.key}`, Details: { MasterKey: { Hostname: "", Port: 0 } } })
    expect(await b.slaveStatus()).toBeUndefined()
    // Put it back for the next tests, and let this node see it in the cluster again.
    await b.replicateFrom(topo.master)
    await b.waitForReplication()
    await okCall(`refresh/${at(b)}`)
    await waitFor("b back in the cluster", async () => {
      const r = await get(`instance/${at(b)}`)
      return (r.body as InstanceJson)["ClusterName"] === topo.master.key ? true : undefined
    })
  })

  it("serves the small reads", async () => {
    const statements = await okCall(`restart-replica-statements/${at(topo.replicas[0]!)}?q=${encodeURIComponent("set global slave_net_timeout=4")}`)
    expect(statements.Details).toEqual([
      "stop slave io_thread;",
      "stop slave sql_thread;",
      "set global slave_net_timeout=4;",
      "start slave sql_thread;",
      "start slave io_thread;"
    ])
    expect(await call(`resolve/${at(topo.master)}`)).toMatchObject({ Code: "OK", Message: "Instance resolved", Details: { Port: topo.master.port } })
    expect((await call("resolve/127.0.0.1/1")).Message).toBe("dial tcp 127.0.0.1:1: connect: connection refused")
    expect(((await get("bulk-instances")).body as ReadonlyArray<{ Port: number }>).map((k) => k.Port)).toEqual(
      topo.instances.map((i) => i.port).sort((x, y) => x - y)
    )
    expect((await get("bulk-promotion-rules")).text).toBe("null")
    const osc = (await get(`cluster-osc-replicas/${topo.master.key}`)).body as ReadonlyArray<InstanceJson>
    expect(osc.map((i) => i.Key.Port).sort()).toEqual(topo.replicas.map((r) => r.port).sort())
    // The -slaves spelling answers the same instances (compared by key: SecondsSinceLastSeen may tick between the calls).
    const oscSlaves = (await get(`cluster-osc-slaves/${topo.master.key}`)).body as ReadonlyArray<InstanceJson>
    expect(oscSlaves.map((i) => i.Key)).toEqual(osc.map((i) => i.Key))
    await okCall(`tag/${at(topo.master)}/role/primary`)
    const tags = await okCall(`topology-tags/${topo.master.key}`)
    expect((tags.Details as string).split("\n")[0]).toMatch(/\] \[role=primary\]$/)
    expect(await call("reload-cluster-alias")).toMatchObject({ status: 500, Message: "This API call has been retired" })
    expect(await call("hostname-resolve-cache")).toMatchObject({ Code: "OK", Message: "Cache retrieved", Details: {} })
    expect((await okCall("reset-hostname-resolve-cache")).Message).toBe("Hostname cache cleared")
    expect(((await get("headers")).body as Record<string, ReadonlyArray<string>>)["Accept"]).toEqual(["*/*"])
    await okCall(`submit-pool-instances/web?instances=${topo.replicas[0]!.key}`)
    expect((await okCall(`cluster-pool-instances/${topo.master.key}`)).Details).toEqual({
      web: [{ Hostname: "127.0.0.1", Port: topo.replicas[0]!.port }]
    })
    const pooled = await okCall(`heuristic-cluster-pool-instances/${topo.master.key}/web`)
    expect((pooled.Details as ReadonlyArray<InstanceJson>).map((i) => i.Key.Port)).toEqual([topo.replicas[0]!.port])
  })

  it("orchestrator-client commands for these routes work unchanged, also run in parallel on one cluster", async () => {
    const [a, b] = topo.replicas as [MariaDbInstance, MariaDbInstance]
    const bins = (...runs: ReadonlyArray<ReadonlyArray<string>>) => Promise.all(runs.map((args) => client(...args)))
    // Through the installed bin. Operations on one cluster take its lock in turn: scripts that stop every replica at
    // once work as with orchestrator.
    expect(await bins(["-c", "stop-replica", "-i", a.key], ["-c", "stop-replica", "-i", b.key])).toMatchObject([
      { code: 0, stdout: `${a.key}\n` },
      { code: 0, stdout: `${b.key}\n` }
    ])
    for (const r of [a, b]) expect(await threads(r)).toMatchObject({ io: "No", sql: "No" })
    // The same CLI code in this process (each bin start costs a Node start-up, seconds on a loaded machine).
    // `start-slave` is rewritten to start-replica by the client.
    const clis = (...runs: ReadonlyArray<ReadonlyArray<string>>) => Promise.all(runs.map((args) => cli(...args)))
    expect(await clis(["-c", "start-slave", "-i", a.key], ["-c", "start-replica", "-i", b.key])).toEqual([
      { code: 0, stdout: `${a.key}\n`, stderr: "" },
      { code: 0, stdout: `${b.key}\n`, stderr: "" }
    ])
    for (const r of [a, b]) expect(await threads(r)).toMatchObject({ io: "Yes", sql: "Yes" })
    expect(await clis(["-c", "detach-replica", "-i", a.key], ["-c", "delay-replication", "-i", b.key, "-S", "7"])).toEqual([
      { code: 0, stdout: `${a.key}\n`, stderr: "" },
      { code: 0, stdout: "7\n", stderr: "" }
    ])
    expect((await threads(a)).host).toBe("//127.0.0.1")
    expect((await threads(b)).delay).toBe(7)
    expect(await cli("-c", "reattach-replica", "-i", a.key)).toEqual({ code: 0, stdout: `${a.key}\n`, stderr: "" })
    expect(await threads(a)).toMatchObject({ host: "127.0.0.1", io: "Yes", sql: "Yes" })
    expect(await cli("-c", "set-read-only", "-i", b.key)).toEqual({ code: 0, stdout: `${b.key}\n`, stderr: "" })
    expect(await cli("-c", "can-replicate-from", "-i", a.key, "-d", b.key)).toEqual({ code: 0, stdout: `${b.key}\n`, stderr: "" })
    expect((await cli("-c", "which-cluster-osc-replicas", "-i", topo.master.key)).stdout.trim().split("\n").sort()).toEqual(
      [a.key, b.key].sort()
    )
    // Tagged here too (tagging is idempotent), so this test does not depend on the one before it having run to its end.
    await okCall(`tag/${at(topo.master)}/role/primary`)
    expect((await cli("-c", "topology-tags", "-i", topo.master.key)).stdout.split("\n")[0]).toMatch(/\[role=primary\]$/)
    expect(await cli("-c", "skip-query", "-i", a.key)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`Replication SQL thread is running on ${a.key}`)
    })
    expect(await cli("-c", "locate-gtid-errant", "-i", a.key)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`locate-errant-gtid: no errant-gtid on ${a.key}`)
    })
    expect(await cli("-c", "can-replicate-from-gtid", "-i", a.key, "-d", topo.master.key)).toMatchObject({ stdout: `${topo.master.key}\n` })
    expect((await cli("-c", "which-cluster-osc-running-replicas", "-i", topo.master.key)).stdout.trim().split("\n").sort()).toEqual(
      [a.key, b.key].sort()
    )
    expect(await cli("-c", "which-heuristic-cluster-pool-instances", "-i", topo.master.key, "-l", "web")).toMatchObject({
      stdout: `${a.key}\n`
    })
    const statements = await cli("-c", "restart-replica-statements", "-i", a.key, "-q", "select 1")
    expect(statements.stdout).toContain('"stop slave io_thread;"')
    expect(statements.stdout).toContain('"select 1;"')
    expect(await cli("-c", "stop-replica-nice", "-i", a.key)).toMatchObject({ code: 0, stdout: `${a.key}\n` })
    expect(await cli("-c", "restart-replica", "-i", a.key)).toMatchObject({ code: 0, stdout: `${a.key}\n` })
    expect(await threads(a)).toMatchObject({ io: "Yes", sql: "Yes" })
    expect(await cli("-c", "enable-semi-sync-master", "-i", topo.master.key)).toMatchObject({ stdout: `${topo.master.key}\n` })
    expect(await cli("-c", "disable-semi-sync-master", "-i", topo.master.key)).toMatchObject({ stdout: `${topo.master.key}\n` })
    expect(await cli("-c", "set-writeable", "-i", b.key)).toMatchObject({ stdout: `${b.key}\n` })
    expect(await cli("-c", "set-read-only", "-i", b.key)).toMatchObject({ stdout: `${b.key}\n` })
    expect(await cli("-c", "flush-binary-logs", "-i", topo.master.key)).toMatchObject({ stdout: `${topo.master.key}\n` })
    expect(await cli("-c", "purge-binary-logs", "-i", topo.master.key, "-n", "mysql-bin.999999")).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("Unsafe to purge binary logs")
    })
  }, 90_000)

  it("orchestrator-client's relocation commands print what they moved and where ('inst<master', keys)", async () => {
    const [a, b] = topo.replicas as [MariaDbInstance, MariaDbInstance]
    const m = topo.master
    const masterOf = async (i: MariaDbInstance) => Number((await i.slaveStatus())?.["Master_Port"])
    expect(await cli("-c", "relocate", "-i", b.key, "-d", a.key)).toEqual({ code: 0, stdout: `${b.key}<${a.key}\n`, stderr: "" })
    expect(await masterOf(b)).toBe(a.port)
    expect(await cli("-c", "move-up-replicas", "-i", a.key)).toEqual({ code: 0, stdout: `${b.key}\n`, stderr: "" })
    expect(await masterOf(b)).toBe(m.port)
    // ?pattern= through the API: a pattern matching nobody moves nobody; then all of them (a is the target).
    const none = await okCall(`relocate-replicas/${at(m)}/${at(a)}?pattern=nomatch`)
    expect(none.Details).toEqual([])
    expect(await masterOf(b)).toBe(m.port)
    expect(await cli("-c", "relocate-replicas", "-i", m.key, "-d", a.key)).toEqual({ code: 0, stdout: `${b.key}\n`, stderr: "" })
    expect(await masterOf(b)).toBe(a.port)
    expect(await cli("-c", "move-up", "-i", b.key)).toEqual({ code: 0, stdout: `${b.key}<${m.key}\n`, stderr: "" })
    expect(await threads(b)).toMatchObject({ io: "Yes", sql: "Yes" })
    expect(await masterOf(b)).toBe(m.port)
    // The typed SDK decodes the same answers (an Instance, a list of them).
    const sdk = Effect.runSync(makeClient({ api: node.url }))
    const moved = await Effect.runPromise(sdk.relocate("relocate", b.key, a.key))
    expect([moved.Key.Port, moved.MasterKey.Port]).toEqual([b.port, a.port])
    const up = await Effect.runPromise(sdk.relocateReplicas("move-up-replicas", a.key))
    expect(up.map((i) => [i.Key.Port, i.MasterKey.Port])).toEqual([[b.port, m.port]])
    expect(await masterOf(b)).toBe(m.port)
  }, 60_000)
})
