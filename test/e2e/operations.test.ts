/**
 * The deployment guide's "A node crashes" on real node processes (docs/operations.md): a node killed
 * with -9 while ops are being committed is started again, rejoins, catches up from the leader's log, and
 * its replicated tables equal the others' table by table. Recovery times are printed (not asserted).
 */
import * as os from "node:os"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Cluster, startCluster } from "../support/cluster.js"
import {
  api,
  commitOps,
  expectSameTables,
  leaderAmong,
  logLines,
  type Member,
  raftStatus,
  replicatedDump,
  rowCount,
  waitUntil
} from "../support/operations.js"

let cluster: Cluster

beforeAll(async () => {
  cluster = await startCluster(3)
}, 120_000)
afterAll(async () => {
  await cluster?.stopAll()
})

/** Restarts `m` and measures: process healthy, raft-health healthy, tables equal to `reference`'s. */
const restartAndCatchUp = async (m: Member, reference: Member) => {
  const t0 = Date.now()
  await cluster.start(m)
  const up = Date.now() - t0
  await waitUntil(`${m.name} raft-health healthy`, async () => (await api(m, "raft-health")).body === "healthy")
  const joined = Date.now() - t0
  await expectSameTables(cluster, reference, m)
  const caughtUp = Date.now() - t0
  return { up, joined, caughtUp }
}

describe("a node crashes (kill -9) and is started again", () => {
  it("a follower killed while ops commit rejoins, catches up from the log, and has the same replicated tables", async () => {
    const leader = (await leaderAmong(cluster, cluster.members, 30_000)).leader
    const [victim, other] = cluster.members.filter((m) => m !== leader) as [Member, Member]
    await commitOps(leader, 0, 20)

    // Ops keep being committed while the follower is killed: some were in flight to it.
    const writer = commitOps(leader, 20, 80, 2)
    await waitUntil("a few more ops to commit", () => (replicatedDump(cluster, leader).database_instance_tags?.length ?? 0) >= 8)
    await cluster.kill9(victim)
    await writer
    const missedFrom = (await raftStatus(leader))!.CommitIndex

    const times = await restartAndCatchUp(victim, leader)
    console.log(
      `kill -9 follower: restarted process healthy after ${times.up} ms, raft-health healthy after ${times.joined} ms, ` +
        `replicated tables equal to the leader's after ${times.caughtUp} ms (2 cores, load ${os.loadavg()[0]!.toFixed(1)})`
    )
    await expectSameTables(cluster, leader, other)
    expect(rowCount(replicatedDump(cluster, victim))).toBeGreaterThanOrEqual(80)
    const s = (await raftStatus(victim))!
    expect(s).toMatchObject({ State: "Follower", Healthy: true, Leader: leader.raftAddress })
    expect(s.AppliedIndex).toBeGreaterThanOrEqual(missedFrom)
    // Caught up from the leader's log: the default snapshot threshold (8192) was never reached.
    expect(logLines(victim, "raft: installed snapshot")).toEqual([])
    expect(logLines(victim, "raft: state changed").join("\n")).toContain(`"role":"follower"`)
  }, 120_000)

  it("the leader killed: a new leader takes over, the old one rejoins as follower with the same tables", async () => {
    const leader = (await leaderAmong(cluster, cluster.members, 30_000)).leader
    await commitOps(leader, 100, 110)
    const t0 = Date.now()
    await cluster.kill9(leader)
    const next = (await leaderAmong(cluster, cluster.members, 30_000)).leader
    const failover = Date.now() - t0
    // Ops while the old leader is down go through a follower (forwarded to the new leader).
    const follower = cluster.members.find((m) => m !== leader && m !== next)!
    await commitOps(follower, 110, 150)
    const times = await restartAndCatchUp(leader, next)
    console.log(
      `kill -9 leader: new leader after ${failover} ms; old leader process healthy after ${times.up} ms, ` +
        `raft-health healthy after ${times.joined} ms, tables equal after ${times.caughtUp} ms (2 cores, load ${os.loadavg()[0]!.toFixed(1)})`
    )
    await expectSameTables(cluster, next, follower)
    expect(await cluster.leaderCheck(leader)).toBe(404)
    expect((await raftStatus(leader))!.Leader).toBe(next.raftAddress)
  }, 120_000)
})
