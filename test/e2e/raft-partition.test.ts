/**
 * A node cut off from the others at the raft port (nftables drops its port, as the harness does for
 * MySQL ports): it never answers leader-check 200 once its lease is over, and the majority keeps or
 * elects a leader. Needs root for nft (CI runs as root); fails with the harness's message otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Partition from "../harness/Partition.js"
import { type Cluster, startCluster } from "../support/cluster.js"

let cluster: Cluster
const healed: Array<number> = []

beforeAll(async () => {
  cluster = await startCluster(3)
}, 120_000)
afterAll(async () => {
  for (const port of healed) Partition.healQuietly(port)
  await cluster?.stopAll()
})

const sample = async (m: Cluster["members"][number], millis: number) => {
  const codes: Array<number> = []
  const end = Date.now() + millis
  while (Date.now() < end) {
    codes.push(await cluster.leaderCheck(m))
    await new Promise((r) => setTimeout(r, 50))
  }
  return codes
}

describe("raft partitions by the raft port", () => {
  it("an isolated follower never answers 200; the leader keeps leading", async () => {
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    healed.push(follower.raftPort)
    Partition.apply(follower.raftPort, "drop")
    const codes = await sample(follower, 3000)
    expect(codes.filter((c) => c === 200)).toEqual([])
    Partition.heal(follower.raftPort)
    const after = await cluster.waitForLeader()
    expect(after).toBeDefined()
  }, 60_000)

  it("an isolated leader stops answering 200 and the majority elects another", async () => {
    const leader = await cluster.waitForLeader()
    healed.push(leader.raftPort)
    Partition.apply(leader.raftPort, "drop")
    const t0 = Date.now()
    // Its lease (5 ticks of 50 ms from the last quorum ack) runs out; after that, never 200 again.
    let lapsedAt: number | undefined
    while (Date.now() - t0 < 10_000) {
      if ((await cluster.leaderCheck(leader)) !== 200) {
        lapsedAt = Date.now()
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(lapsedAt).toBeDefined()
    console.log(`isolated leader stopped answering 200 after ${lapsedAt! - t0} ms`)
    const others = cluster.members.filter((m) => m !== leader)
    const deadline = Date.now() + 15_000
    let newLeader: Cluster["members"][number] | undefined
    while (newLeader === undefined && Date.now() < deadline) {
      const codes = await Promise.all(others.map((m) => cluster.leaderCheck(m)))
      newLeader = others.find((_, i) => codes[i] === 200)
      expect(await cluster.leaderCheck(leader)).not.toBe(200)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(newLeader).toBeDefined()
    console.log(`majority elected ${newLeader!.name} ${Date.now() - t0} ms after the cut`)
    expect((await sample(leader, 2000)).filter((c) => c === 200)).toEqual([])
    Partition.heal(leader.raftPort)
    // After healing all converge on one leader.
    await cluster.waitForLeader()
  }, 60_000)
})
