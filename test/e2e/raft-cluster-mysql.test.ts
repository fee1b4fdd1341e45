/**
 * The MySQL-backend variant of the raft cluster test: three real node processes, each with its own backend
 * database (orc_node1..3) on one test-started mariadbd — never shared, as the deployment guide requires.
 * Checked: one leader; an op sent to a follower lands in all three databases; kill -9 of the leader → another
 * leads, and the restarted node catches up in its own database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mutate, waitUntil } from "../support/operations.js"
import { type Cluster, type ClusterMember, startCluster } from "../support/cluster.js"
import { Credentials, Shape, startTopology, type Topology } from "../harness/Topology.js"

let topology: Topology
let cluster: Cluster
const databaseOf = (m: ClusterMember) => `orc_${m.name}_${process.pid}`

beforeAll(async () => {
  topology = await startTopology({ shape: Shape.custom([null]) })
  cluster = await startCluster(3, {
    BackendDB: "mysql",
    MySQLOrchestratorHost: "127.0.0.1",
    MySQLOrchestratorPort: topology.master.port,
    MySQLOrchestratorUser: Credentials.admin.user,
    MySQLOrchestratorPassword: Credentials.admin.password
  }, { perMember: (m) => ({ MySQLOrchestratorDatabase: databaseOf(m) }) })
}, 180_000)

afterAll(async () => {
  try {
    await cluster?.stopAll()
    if (topology !== undefined) {
      for (const m of cluster?.members ?? []) {
        await topology.master.query(`DROP DATABASE IF EXISTS \`${databaseOf(m)}\``, [], { user: "admin" })
      }
    }
  } finally {
    await topology?.stop()
  }
})


const downtimes = async (m: ClusterMember): Promise<ReadonlyArray<string>> =>
  (await topology.master.query(
    `SELECT hostname FROM \`${databaseOf(m)}\`.database_instance_downtime ORDER BY hostname`,
    [],
    { user: "admin" }
  )).map((r) => String(r.hostname))


describe("a three-node raft cluster on MySQL backends (one database per node)", () => {
  it("has exactly one leader, and each node migrated its own database", async () => {
    await cluster.waitForLeader()
    // Never two 200s; and one once more in a later round. None for a moment is allowed: on a loaded machine the
    // leader's lease can lapse between two heartbeats, and leader-check answers 200 only under the lease.
    let oneLeader = 0
    for (let round = 0; round < 20; round++) {
      const codes = await Promise.all(cluster.members.map((m) => cluster.leaderCheck(m)))
      const leaders = codes.filter((c) => c === 200).length
      expect(leaders).toBeLessThanOrEqual(1)
      if (leaders === 1) oneLeader++
      await new Promise((r) => setTimeout(r, 25))
    }
    expect(oneLeader).toBeGreaterThan(0)
    const schemas = (await topology.master.query("SHOW DATABASES", [], { user: "admin" })).map((r) => String(Object.values(r)[0]))
    for (const m of cluster.members) expect(schemas).toContain(databaseOf(m))
  })

  it("applies begin-downtime sent to a follower in all three databases", async () => {
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    const r = await mutate(`${follower.url}/api/begin-downtime/db1.example/3306/ops/mysql-backend/1h`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ Code: "OK", Message: "Downtime begun: db1.example:3306" })
    await waitUntil("the downtime in every database", async () =>
      (await Promise.all(cluster.members.map(downtimes))).every((d) => d.includes("db1.example")))
  })

  it("elects a new leader after kill -9 of the leader; the restarted node catches up in its database", async () => {
    const leader = await cluster.waitForLeader()
    const t0 = Date.now()
    await cluster.kill9(leader)
    const next = await cluster.waitForLeader(30_000)
    console.log(`MySQL backends: new leader after kill -9 in ${Date.now() - t0} ms`)
    expect(next).not.toBe(leader)
    const r = await mutate(`${next.url}/api/begin-downtime/db2.example/3306/ops/after-failover`)
    expect((r.body as { Code: string }).Code).toBe("OK")
    await cluster.start(leader)
    await waitUntil("the restarted node's catch-up", async () => (await downtimes(leader)).includes("db2.example"), 20_000)
    expect(await downtimes(leader)).toEqual(expect.arrayContaining(["db1.example", "db2.example"]))
    expect(await cluster.leaderCheck(leader)).toBe(404)
  })
})
