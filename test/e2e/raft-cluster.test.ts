/**
 * Three real node processes forming a raft cluster on loopback (SQLite backends): leader semantics,
 * forwarding, replication of ops to every backend, failover after kill -9 and catch-up on restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mutate } from "../support/operations.js"
import { type Cluster, startCluster } from "../support/cluster.js"
import { runOrchestrator } from "../support/nodeProcess.js"

let cluster: Cluster

beforeAll(async () => {
  cluster = await startCluster(3)
}, 120_000)
afterAll(async () => {
  await cluster?.stopAll()
})


/** /api/health's RaftHealthyMembers on `m`, sorted. */
const healthyMembers = async (m: Cluster["members"][number]) => {
  const body = await (await fetch(`${m.url}/api/health`)).json() as { readonly Details: { readonly RaftHealthyMembers: ReadonlyArray<string> } }
  return [...body.Details.RaftHealthyMembers].sort()
}
/** Polls until the current leader reports `expected` as its healthy members (5 s), and returns what it last saw. */
const leaderReports = async (expected: ReadonlyArray<string>) => {
  const want = [...expected].sort()
  const deadline = Date.now() + 5000
  for (;;) {
    const seen = await healthyMembers(await cluster.waitForLeader())
    if (JSON.stringify(seen) === JSON.stringify(want) || Date.now() > deadline) return seen
    await new Promise((res) => setTimeout(res, 100))
  }
}

const downtimes = (m: Cluster["members"][number]) =>
  cluster.query(m, "SELECT hostname FROM database_instance_downtime ORDER BY hostname").map((r) => r.hostname)

describe("a three-node raft cluster", () => {
  it("has exactly one node answering leader-check 200, never two", async () => {
    await cluster.waitForLeader()
    // A leader starved of CPU may let its lease lapse for a moment (then no node answers 200): that is
    // the lease doing its job. What must never happen is two nodes answering 200 at once.
    for (let i = 0; i < 20; i++) {
      const codes = await Promise.all(cluster.members.map((m) => cluster.leaderCheck(m)))
      expect(codes.filter((c) => c === 200).length).toBeLessThanOrEqual(1)
      await new Promise((r) => setTimeout(r, 50))
    }
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    expect(await cluster.leaderCheck(follower, 503)).toBe(503)
    // routed-leader-check is forwarded to the leader by a follower.
    expect((await fetch(`${follower.url}/api/routed-leader-check`)).status).toBe(200)
  })

  it("serves orchestrator's raft endpoints", async () => {
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    const json = async (m: typeof leader, p: string) => (await fetch(`${m.url}/api/${p}`)).json() as Promise<unknown>
    expect(await json(leader, "raft-state")).toBe("Leader")
    expect(await json(follower, "raft-state")).toBe("Follower")
    expect(await json(follower, "raft-leader")).toBe(leader.raftAddress)
    expect(await json(follower, "raft-health")).toBe("healthy")
    expect([...(await json(follower, "raft-peers")) as Array<string>].sort()).toEqual(cluster.members.map((m) => m.raftAddress).sort())
    const status = await json(follower, "raft-status") as Record<string, unknown>
    expect(status).toMatchObject({ State: "Follower", Healthy: true, IsPartOfQuorum: true, Leader: leader.raftAddress, LeaderURI: leader.url })
    // /api/health's RaftHealthyMembers: the leader and the followers it heard from; empty on a follower.
    const all = cluster.members.map((m) => m.raftAddress)
    expect(await leaderReports(all)).toEqual([...all].sort())
    expect(await healthyMembers(follower)).toEqual([])
  })

  it("applies begin-downtime sent to a follower on all three backends, acknowledged after commit", async () => {
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    const r = await mutate(`${follower.url}/api/begin-downtime/db1.example/3306/ops/raft-test/1h`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ Code: "OK", Message: "Downtime begun: db1.example:3306" })
    // Acknowledged after commit on the leader; followers apply within a heartbeat or two.
    const deadline = Date.now() + 5000
    while (cluster.members.some((m) => !downtimes(m).includes("db1.example")) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50))
    }
    for (const m of cluster.members) expect(downtimes(m)).toContain("db1.example")
    expect(downtimes(leader)).toContain("db1.example")
  })

  it("reelect, sent to a follower, hands leadership to another node; grab-election is refused with raft", async () => {
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    const r = await mutate(`${follower.url}/api/reelect`)
    expect(r.body).toMatchObject({ Code: "OK", Message: "Set re-elections" })
    const handedTo = (r.body as { readonly Details: string }).Details
    expect(handedTo).not.toBe(leader.raftAddress)
    const deadline = Date.now() + 5000
    let now = await cluster.waitForLeader()
    while (now === leader && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50))
      now = await cluster.waitForLeader()
    }
    expect(now).not.toBe(leader)
    const g = await mutate(`${follower.url}/api/grab-election`)
    expect(g.body).toMatchObject({ Code: "ERROR", Message: "Unable to grab election: Cannot GrabElection on raft setup" })
  })

  it("elects a new leader after kill -9 of the leader; the restarted node catches up", async () => {
    const leader = await cluster.waitForLeader()
    const t0 = Date.now()
    await cluster.kill9(leader)
    const next = await cluster.waitForLeader()
    console.log(`failover after kill -9: new leader answered leader-check 200 after ${Date.now() - t0} ms`)
    expect(next).not.toBe(leader)
    const alive = cluster.members.filter((m) => m !== leader).map((m) => m.raftAddress)
    expect(await leaderReports(alive)).toEqual([...alive].sort())
    const r = await mutate(`${next.url}/api/begin-downtime/db2.example/3306/ops/after-failover`)
    expect((r.body as { Code: string }).Code).toBe("OK")
    await cluster.start(leader)
    const deadline = Date.now() + 10_000
    while (!downtimes(leader).includes("db2.example") && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50))
    expect(downtimes(leader)).toEqual(expect.arrayContaining(["db1.example", "db2.example"]))
    expect(await cluster.leaderCheck(leader)).toBe(404)
    const all = cluster.members.map((m) => m.raftAddress)
    expect(await leaderReports(all)).toEqual([...all].sort())
  })

  it("refuses to start when RaftNodes does not list this node", async () => {
    const m = cluster.members[0]!
    const config = {
      ...m.config,
      ListenAddress: "127.0.0.1:0",
      RaftBind: "127.0.0.1:1",
      RaftNodes: [...cluster.members.map((x) => x.raftAddress)],
      RaftAuthSecret: "wrong",
      RaftJoinTimeoutSeconds: 2
    }
    // Its own address is not in RaftNodes: refused at start-up with a message naming the key.
    const fs = await import("node:fs")
    const os = await import("node:os")
    const path = await import("node:path")
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-stranger-"))
    const file = path.join(dir, "c.json")
    fs.writeFileSync(file, JSON.stringify({ ...config, SQLite3DataFile: path.join(dir, "b.db"), RaftDataDir: path.join(dir, "raft") }))
    const r = await runOrchestrator(["--config", file, "http"])
    expect(r.code).not.toBe(0)
    expect(r.stdout + r.stderr).toContain("does not contain this node")
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

describe("a node that cannot join", () => {
  it("exits with a clear log line after RaftJoinTimeoutSeconds when it never joined", async () => {
    const fs = await import("node:fs")
    const os = await import("node:os")
    const path = await import("node:path")
    const { freePort } = await import("../support/ports.js")
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-lonely-"))
    const self = `127.0.0.1:${await freePort()}`
    const file = path.join(dir, "c.json")
    fs.writeFileSync(file, JSON.stringify({
      ListenAddress: `127.0.0.1:${await freePort()}`,
      BackendDB: "sqlite",
      SQLite3DataFile: path.join(dir, "b.db"),
      RaftEnabled: true,
      RaftDataDir: path.join(dir, "raft"),
      RaftBind: self,
      // Two peers that do not exist: no quorum, no leader, ever.
      RaftNodes: [self, `127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`],
      RaftJoinTimeoutSeconds: 2
    }))
    const t0 = Date.now()
    const r = await runOrchestrator(["--config", file, "http"])
    console.log(`lonely node exited after ${Date.now() - t0} ms with code ${r.code}`)
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("has not joined the cluster within 2 s (RaftJoinTimeoutSeconds)")
    fs.rmSync(dir, { recursive: true, force: true })
  }, 60_000)
})
