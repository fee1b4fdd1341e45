import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { tableName } from "./Partition.js"
import { type MariaDbInstance, Shape } from "./Topology.js"
import * as TopologyHarness from "./TopologyHarness.js"

const { promise } = TopologyHarness

const nftTables = (): string => spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).stdout ?? ""

const pidGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

/** Polls `f` until it returns true (real time: these tests run with it.scopedLive). */
const eventually = (what: string, f: () => Promise<boolean>, timeoutMs = 15_000) =>
  promise(async () => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (await f().catch(() => false)) return
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  })

const ioRunning = (replica: MariaDbInstance) => async () =>
  (await replica.slaveStatus())?.["Slave_IO_Running"] as string | undefined

/** A TCP client with a short connect timeout: resolves to the error message, or "ok". */
const tcpProbe = (instance: MariaDbInstance) =>
  promise(() =>
    instance.query("SELECT 1 AS one", [], { connectTimeoutMs: 1000 }).then(() => "ok", (e: unknown) => String(e))
  )

const setupTable = (master: MariaDbInstance) =>
  Effect.gen(function*() {
    yield* TopologyHarness.query(master, "CREATE DATABASE f", [], { user: "admin" })
    yield* TopologyHarness.query(master, "CREATE TABLE f.t (id INT PRIMARY KEY)", [], { user: "admin" })
  })

const ids = (instance: MariaDbInstance, via: "tcp" | "socket" = "tcp") =>
  TopologyHarness.query(instance, "SELECT id FROM f.t ORDER BY id", [], { via }).pipe(
    Effect.map((rows) => rows.map((r) => Number(r["id"])))
  )

describe("MariaDB harness fault helpers", () => {
  it.scopedLive("kill9 and restart: a replica catches up, replicas reconnect to a restarted master", () =>
    Effect.gen(function*() {
      const topo = yield* TopologyHarness.make({ shape: Shape.masterWithReplicas(1) })
      const { master } = topo
      const replica = topo.replicas[0]!
      yield* setupTable(master)

      const replicaPid = replica.pid!
      yield* TopologyHarness.kill9(replica)
      expect(pidGone(replicaPid)).toBe(true)
      expect(replica.state).toBe("stopped")
      yield* TopologyHarness.query(master, "INSERT INTO f.t VALUES (1)", [], { user: "admin" })
      // start() on the same port and datadir; restart() would also wait for replication, here we sync instead.
      yield* TopologyHarness.start(replica)
      yield* TopologyHarness.waitForReplication(replica)
      yield* TopologyHarness.syncReplicas(topo)
      expect(yield* ids(replica)).toEqual([1])

      // The master crashes: the replica's IO thread leaves Yes (spec section 4: at once after kill -9).
      yield* TopologyHarness.kill9(master)
      yield* eventually("replica IO thread not Yes", async () => (await ioRunning(replica)()) !== "Yes")
      expect(yield* tcpProbe(master)).toMatch(/ECONNREFUSED/)
      yield* TopologyHarness.start(master)
      // MASTER_CONNECT_RETRY=1: back to Yes within about 1.5 s.
      yield* TopologyHarness.waitForReplication(replica, 15_000)
      yield* TopologyHarness.query(master, "INSERT INTO f.t VALUES (2)", [], { user: "admin" })
      yield* TopologyHarness.syncReplicas(topo)
      expect(yield* ids(replica)).toEqual([1, 2])

      // restart() = clean shutdown + start + wait for Yes/Yes (it is a replica).
      const before = replica.pid
      yield* TopologyHarness.restart(replica)
      expect(replica.pid).not.toBe(before)
      expect((yield* promise(() => replica.slaveStatus()))?.["Slave_SQL_Running"]).toBe("Yes")
    }))

  it.scopedLive("sigstop hangs the server, sigcont resumes it", () =>
    Effect.gen(function*() {
      const topo = yield* TopologyHarness.make({ shape: Shape.masterWithReplicas(1) })
      const { master } = topo
      yield* TopologyHarness.sigstop(master)
      expect(master.state).toBe("sigstopped")
      // Connects complete in the kernel backlog, the handshake never comes.
      expect(yield* tcpProbe(master)).toMatch(/ETIMEDOUT|timeout/i)
      yield* TopologyHarness.sigcont(master)
      expect(master.state).toBe("running")
      expect(yield* tcpProbe(master)).toBe("ok")
      yield* TopologyHarness.waitForReplication(topo.replicas[0]!)
    }))

  it.scopedLive("partial partition: clients lose the master, its replica keeps replicating; heal restores", () =>
    Effect.gen(function*() {
      const topo = yield* TopologyHarness.make({ shape: Shape.masterWithReplicas(1) })
      const { master } = topo
      const replica = topo.replicas[0]!
      yield* setupTable(master)
      yield* TopologyHarness.partition(master, "partial")
      expect(master.partitioned).toBe("partial")
      expect(nftTables()).toContain(tableName(master.port))

      expect(yield* tcpProbe(master)).toMatch(/ETIMEDOUT|timeout/i)
      // The unix socket is never partitioned: write on the master through it.
      yield* TopologyHarness.query(master, "INSERT INTO f.t VALUES (1)", [], { user: "admin", via: "socket" })
      yield* TopologyHarness.syncReplicas(topo)
      expect(yield* ids(replica)).toEqual([1])
      expect(yield* promise(ioRunning(replica))).toBe("Yes")

      yield* TopologyHarness.heal(master)
      expect(master.partitioned).toBeUndefined()
      expect(nftTables()).not.toContain(tableName(master.port))
      expect(yield* tcpProbe(master)).toBe("ok")
    }))

  it.scopedLive("reject and drop partitions; stop() removes a partition left in place", () =>
    Effect.gen(function*() {
      let port = 0
      yield* Effect.scoped(
        Effect.gen(function*() {
          const topo = yield* TopologyHarness.make({ shape: Shape.masterWithReplicas(1) })
          const replica = topo.replicas[0]!
          port = replica.port
          yield* TopologyHarness.partition(replica, "reject")
          expect(yield* tcpProbe(replica)).toMatch(/ECONNREFUSED/)
          // Only its port is cut: the replica's own IO thread (to the master's port) keeps running.
          expect(yield* promise(ioRunning(replica))).toBe("Yes")
          yield* TopologyHarness.heal(replica)
          expect(yield* tcpProbe(replica)).toBe("ok")

          // Left in place on purpose: the topology's stop() must remove it.
          yield* promise(() => replica.partition("drop"))
          expect(yield* tcpProbe(replica)).toMatch(/ETIMEDOUT|timeout/i)
          expect(nftTables()).toContain(tableName(port))
        })
      )
      expect(nftTables()).not.toContain(tableName(port))
    }))
})
