import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { HarnessError } from "./HarnessError.js"
import { locateBinaries, notInstalledMessage } from "./MariaDbInstall.js"
import { type MariaDbInstance, Shape, startTopology } from "./Topology.js"
import * as TopologyHarness from "./TopologyHarness.js"

const pidGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

const count = async (instance: MariaDbInstance, table: string): Promise<number> => {
  const [row] = await instance.query(`SELECT COUNT(*) AS n FROM ${table}`)
  return Number(row?.["n"])
}

describe("MariaDB topology harness", () => {
  it("starts master + 3 replicas that replicate, and stop() leaves no process nor dir", async () => {
    const topo = await startTopology({ shape: Shape.masterWithReplicas(3) })
    const pids = topo.instances.map((i) => i.pid)
    const dirs = topo.instances.map((i) => i.dir)
    try {
      // Printed, not asserted (tests never assert wall-clock speed).
      console.log(`harness: master + 3 replicas up and replicating in ${topo.startupMs} ms`)
      expect(new Set(topo.instances.map((i) => i.port)).size).toBe(4)
      for (const i of topo.instances) {
        expect(i.port).toBeGreaterThanOrEqual(20000)
        expect(i.port).toBeLessThan(32768)
        expect(i.key).toBe(`127.0.0.1:${i.port}`)
        expect(i.state).toBe("running")
      }
      expect(topo.orchestratorConfig).toEqual({ MySQLTopologyUser: "orc", MySQLTopologyPassword: "orc_pw" })

      const [vars] = await topo.master.query(
        "SELECT @@server_id AS id, @@read_only AS ro, @@log_bin AS lb, @@log_slave_updates AS lsu, " +
          "@@binlog_format AS bf, @@gtid_strict_mode AS gsm, @@report_host AS rh, @@report_port AS rp, " +
          "@@slave_net_timeout AS snt"
      )
      expect(vars).toEqual({
        id: topo.master.port,
        ro: 0,
        lb: 1,
        lsu: 1,
        bf: "ROW",
        gsm: 1,
        rh: "127.0.0.1",
        rp: topo.master.port,
        snt: 4
      })

      await topo.master.query("CREATE DATABASE harness", [], { user: "admin" })
      await topo.master.query("CREATE TABLE harness.t (id INT PRIMARY KEY)", [], { user: "admin" })
      await topo.master.query("INSERT INTO harness.t VALUES (1), (2), (3)", [], { user: "admin" })
      await topo.syncReplicas()
      for (const replica of topo.replicas) {
        expect(await count(replica, "harness.t")).toBe(3)
        // `SELECT @@read_only` on its own: combined with a FROM clause MariaDB 10.11 reported 0 here.
        const [ro] = await replica.query("SELECT @@read_only AS ro")
        expect(ro?.["ro"]).toBe(1)
        const status = await replica.slaveStatus()
        expect(status?.["Master_Port"]).toBe(topo.master.port)
        expect(status?.["Using_Gtid"]).toBe("Slave_Pos")
        expect(status?.["Connect_Retry"]).toBe(1)
      }
      // The topology user has the 10.11 privileges the classic grant lacks (spec section 3).
      const hosts = await topo.master.query("SHOW SLAVE HOSTS")
      expect(hosts.map((h) => h["Port"]).sort()).toEqual(topo.replicas.map((r) => r.port).sort())
    } finally {
      await topo.stop()
    }
    for (const pid of pids) expect(pid !== undefined && pidGone(pid)).toBe(true)
    for (const dir of dirs) expect(fs.existsSync(dir)).toBe(false)
    for (const i of topo.instances) expect(i.pid).toBeUndefined()
  })

  it.scopedLive("chain: the leaf replicates from the intermediate (scoped Effect form)", () =>
    Effect.gen(function*() {
      const topo = yield* TopologyHarness.make({ shape: Shape.chain() })
      const [master, intermediate, leaf] = topo.instances
      expect(master?.masterIndex).toBeNull()
      const intermediateStatus = yield* TopologyHarness.promise(() => intermediate!.slaveStatus())
      const leafStatus = yield* TopologyHarness.promise(() => leaf!.slaveStatus())
      expect(intermediateStatus?.["Master_Port"]).toBe(master!.port)
      expect(leafStatus?.["Master_Port"]).toBe(intermediate!.port)

      yield* TopologyHarness.query(master!, "CREATE DATABASE chain", [], { user: "admin" })
      yield* TopologyHarness.query(master!, "CREATE TABLE chain.t (id INT PRIMARY KEY)", [], { user: "admin" })
      yield* TopologyHarness.query(master!, "INSERT INTO chain.t VALUES (1)", [], { user: "admin" })
      yield* TopologyHarness.syncReplicas(topo)
      const rows = yield* TopologyHarness.query(leaf!, "SELECT id FROM chain.t")
      expect(rows).toEqual([{ id: 1 }])
      // Depth shows through the topology user too: the intermediate lists the leaf, the master the intermediate.
      const underMaster = yield* TopologyHarness.query(master!, "SHOW SLAVE HOSTS")
      expect(underMaster.map((r) => r["Port"])).toEqual([intermediate!.port])
    }))

  it.scopedLive("the scope stops the servers and removes their dirs", () =>
    Effect.gen(function*() {
      const seen = yield* Effect.scoped(
        Effect.gen(function*() {
          const topo = yield* TopologyHarness.make({ shape: Shape.masterWithReplicas(1) })
          return topo.instances.map((i) => ({ pid: i.pid, dir: i.dir }))
        })
      )
      expect(seen).toHaveLength(2)
      for (const { dir, pid } of seen) {
        expect(pid !== undefined && pidGone(pid)).toBe(true)
        expect(fs.existsSync(dir)).toBe(false)
      }
    }))

  it("rejects a shape with a cycle", async () => {
    await expect(startTopology({ shape: Shape.custom([1, 0]) })).rejects.toThrow(/cycle/)
  })

  it("accepts one co-master pair only when the shape says so; any longer cycle is still rejected", async () => {
    expect(Shape.coMasters(1)).toEqual({ masters: [1, 0, 0], coMasters: true })
    await expect(startTopology({ shape: { masters: [1, 2, 0], coMasters: true } })).rejects.toThrow(/cycle through instance/)
    await expect(startTopology({ shape: { masters: [1, 0, 3, 2], coMasters: true } })).rejects.toThrow(/more than one co-master pair/)
  })

  it("fails with a clear message when mariadbd is not installed", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-mariadb-"))
    try {
      expect(() => locateBinaries([empty])).toThrow(HarnessError)
      expect(() => locateBinaries([empty])).toThrow(notInstalledMessage)
      expect(notInstalledMessage).toBe("mariadbd not found: install mariadb-server (apt-get install mariadb-server)")
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
  })
})

// One topology shared by every test of the block; stopped after the last one.
layer(TopologyHarness.layer({ shape: Shape.masterWithReplicas(2) }), { excludeTestServices: true })(
  "MariaDB topology as a shared layer",
  (it) => {
    it.effect("provides the running topology", () =>
      Effect.gen(function*() {
        const topo = yield* TopologyHarness.MariaDbTopology
        expect(topo.replicas).toHaveLength(2)
        const [status] = yield* TopologyHarness.query(topo.replicas[1]!, "SHOW SLAVE STATUS")
        expect(status?.["Slave_IO_Running"]).toBe("Yes")
        expect(topo.instance(topo.master.key)).toBe(topo.master)
        expect(topo.instance(topo.master.port)).toBe(topo.master)
      }))
  }
)
