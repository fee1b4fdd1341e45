/**
 * Asymmetric partitions between real node processes (the symmetric ones are in raft-partition.test.ts),
 * made with nftables: each node runs under its own uid so a rule can drop what one node sends to another
 * (`meta skuid`). Throughout: at most one node answers leader-check 200 at any sample, a node that cannot
 * hear a majority never answers 200 once another node has, and after healing all converge on one leader
 * with equal replicated tables. Needs root (nft, and running nodes as other uids), as raft-partition does.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type Cluster, startCluster, loadNote } from "../support/cluster.js"
import {
  commitOps,
  cut,
  expectSameTables,
  heal,
  healQuietly,
  leaderAmong,
  type Member,
  raftStatus,
  sampleLeaders,
  saveLogs,
  sleep,
  waitUntil
} from "../support/operations.js"

let cluster: Cluster
const uids = new Map<Member, number>()
const faults = ["leader-deaf", "follower-cut", "leader-mute"]
// Each node under its own uid, so its packets are attributable; uids no other suite uses.
const nodeUids = [47101, 47102, 47103]

beforeAll(async () => {
  cluster = await startCluster(3, {}, { uids: nodeUids })
  cluster.members.forEach((m, i) => uids.set(m, nodeUids[i]!))
}, 120_000)
afterEach(({ task }) => {
  for (const f of faults) healQuietly(f)
  if (task.result?.state === "fail") console.log(`node logs: ${saveLogs(cluster.members)}`)
})
afterAll(async () => {
  for (const f of faults) healQuietly(f)
  await cluster?.stopAll()
})

/** Packets that `from`'s process sends to `to`'s raft port are dropped: from → to is cut, to → from is not. */
const drop = (from: Member, to: Member) => `meta skuid ${uids.get(from)} tcp dport ${to.raftPort} drop`

/** The checks every scenario shares, over the samples of the partition period. */
const checkSamples = (
  samples: ReadonlyArray<{ readonly at: number; readonly leaders: ReadonlyArray<Member> }>,
  minority: Member
) => {
  expect(samples.filter((s) => s.leaders.length > 1).map((s) => s.leaders.map((m) => m.name))).toEqual([])
  // Once another node answered 200, the cut-off node never does again before the heal.
  const other = samples.findIndex((s) => s.leaders.some((m) => m !== minority))
  if (other >= 0) expect(samples.slice(other).filter((s) => s.leaders.includes(minority)).length).toBe(0)
  const last200 = samples.filter((s) => s.leaders.includes(minority)).at(-1)
  return last200 === undefined ? -1 : last200.at - samples[0]!.at
}

/** Heals `fault` and waits for one leader, every node following it with equal tables. */
const healAndConverge = async (fault: string) => {
  heal(fault)
  const t0 = Date.now()
  const { leader } = await leaderAmong(cluster, cluster.members, 30_000)
  await waitUntil("every node to follow one leader", async () => {
    const ss = await Promise.all(cluster.members.map(raftStatus))
    return ss.every((s) => s !== undefined && s.Healthy && s.Leader === leader.raftAddress)
  }, 30_000)
  const converged = Date.now() - t0
  await commitOps(leader, 900, 904)
  for (const m of cluster.members) await expectSameTables(cluster, leader, m)
  return converged
}

describe("asymmetric raft partitions", () => {
  it("the leader can send but not receive: it loses its lease, the others elect a leader; it never answers 200 again until healed", async () => {
    const { leader: deaf } = await leaderAmong(cluster, cluster.members, 30_000)
    await commitOps(deaf, 0, 8)
    const others = cluster.members.filter((m) => m !== deaf)
    const sampler = sampleLeaders(cluster, cluster.members)
    await sleep(200)
    const t0 = Date.now()
    // Everything sent to the leader's raft port is dropped: its heartbeats reach the followers, their acks never reach it.
    cut("leader-deaf", others.map((m) => drop(m, deaf)))
    const { leader: next } = await leaderAmong(cluster, others, 30_000)
    const elected = Date.now() - t0
    await commitOps(next, 8, 16)
    await sleep(2000)
    const samples = await sampler.stop()
    const lastOld = checkSamples(samples.filter((s) => s.at >= t0), deaf)
    const s = await raftStatus(deaf)
    console.log(
      `leader can send, not receive: its last 200 ${lastOld} ms after the cut, ${next.name} elected after ${elected} ms; ` +
        `the cut-off node is ${s?.State} at term ${s?.Term} (${samples.length} samples; ${loadNote()})`
    )
    expect(s?.HasLease).toBe(false)
    const converged = await healAndConverge("leader-deaf")
    console.log(`healed: one leader, all following with equal tables after ${converged} ms (${loadNote()})`)
  }, 120_000)

  it("a follower cut off from the leader only (it still reaches the other follower) never answers 200 and does not depose the leader", async () => {
    const { leader } = await leaderAmong(cluster, cluster.members, 30_000)
    const [cutOff, bridge] = cluster.members.filter((m) => m !== leader) as [Member, Member]
    const before = (await raftStatus(leader))!.Term
    const sampler = sampleLeaders(cluster, cluster.members)
    const t0 = Date.now()
    cut("follower-cut", [drop(leader, cutOff), drop(cutOff, leader)])
    // Writes keep committing (leader + bridge are a majority) while the cut-off node times out and asks
    // the bridge for pre-votes, which the bridge refuses: it still hears the leader (stickiness).
    await commitOps(leader, 100, 116)
    await sleep(3000)
    const samples = await sampler.stop()
    checkSamples(samples, cutOff)
    const s = (await raftStatus(cutOff))!
    const after = (await raftStatus(leader)) ?? { Term: -1 }
    const leadersSeen = [...new Set(samples.flatMap((x) => x.leaders.map((m) => m.name)))]
    console.log(
      `follower cut from the leader only: leaders seen ${leadersSeen.join(", ")}; leader term ${before} → ${after.Term}; ` +
        `cut-off node ${s.State} at term ${s.Term}, leader "${s.Leader}" (${samples.length} samples over ${Date.now() - t0} ms; ${loadNote()})`
    )
    expect(samples.some((x) => x.leaders.includes(cutOff))).toBe(false)
    // PreVote: its failed elections did not raise anyone's term.
    expect(s.Term).toBe(before)
    expect(s.Healthy).toBe(false)
    const converged = await healAndConverge("follower-cut")
    console.log(`healed: all following one leader with equal tables after ${converged} ms (${loadNote()})`)
    expect((await raftStatus(bridge))?.Healthy).toBe(true)
  }, 120_000)

  it("the leader can receive but not send: the others elect a leader whose messages depose it; it never answers 200 again until healed", async () => {
    const { leader: mute } = await leaderAmong(cluster, cluster.members, 30_000)
    const others = cluster.members.filter((m) => m !== mute)
    const sampler = sampleLeaders(cluster, cluster.members)
    await sleep(200)
    const t0 = Date.now()
    cut("leader-mute", others.map((m) => drop(mute, m)))
    const { leader: next } = await leaderAmong(cluster, others, 30_000)
    const elected = Date.now() - t0
    await commitOps(next, 200, 208)
    // It hears the new leader's higher term and steps down, though it cannot answer.
    await waitUntil("the muted node to know the new leader", async () => (await raftStatus(mute))?.Leader === next.raftAddress)
    await sleep(1000)
    const samples = await sampler.stop()
    const lastOld = checkSamples(samples.filter((s) => s.at >= t0), mute)
    const s = await raftStatus(mute)
    console.log(
      `leader can receive, not send: its last 200 ${lastOld} ms after the cut, ${next.name} elected after ${elected} ms; ` +
        `the muted node is ${s?.State} of ${s?.Leader} at term ${s?.Term} (${samples.length} samples; ${loadNote()})`
    )
    expect(s?.State).toBe("Follower")
    const converged = await healAndConverge("leader-mute")
    console.log(`healed: all following one leader with equal tables after ${converged} ms (${loadNote()})`)
  }, 120_000)
})
