/**
 * The deployment guide's "PANIC after 1 minute", as RaftJoinTimeoutSeconds (docs/operations.md "A node
 * that cannot join"): a node that was a member never exits for it. With both peers down it keeps
 * retrying, answers raft-health 500 and leader-check 404 and refuses writes with 503 (also across its own
 * restart: having joined is durable), and rejoins as soon as a peer is back. The never-joined case (exit
 * with status 2) is in raft-cluster.test.ts and operations-membership.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type Cluster, startCluster, loadNote } from "../support/cluster.js"
import {
  api,
  commitOps,
  expectSameTables,
  leaderAmong,
  logLines,
  type Member,
  mutate,
  raftStatus,
  saveLogs,
  sleep,
  stopMember,
  waitUntil
} from "../support/operations.js"

const joinTimeoutSeconds = 3
let cluster: Cluster

beforeAll(async () => {
  // The default timeout while the cluster forms: on a loaded machine the three processes may start
  // seconds apart, and a never-joined node must not give up before its peers are up.
  cluster = await startCluster(3)
}, 120_000)
afterEach(({ task }) => {
  if (task.result?.state === "fail") console.log(`node logs: ${saveLogs(cluster.members)}`)
})
afterAll(async () => {
  await cluster?.stopAll()
})


/** For longer than RaftJoinTimeoutSeconds: `m` stays up, unhealthy, not leader, refusing writes. */
const expectWaitingMember = async (m: Member) => {
  const until = Date.now() + (joinTimeoutSeconds + 2) * 1000
  let samples = 0
  while (Date.now() < until) {
    expect(m.process!.child.exitCode, `${m.name} exited`).toBeNull()
    expect(await cluster.leaderCheck(m)).toBe(404)
    const health = await api(m, "raft-health")
    expect(health.status).toBe(500)
    expect(health.body).toMatchObject({ Code: "ERROR", Message: "unhealthy" })
    samples++
    await sleep(200)
  }
  expect(m.process!.child.exitCode).toBeNull()
  expect(logLines(m, "has not joined the cluster")).toEqual([])
  const s = (await raftStatus(m))!
  expect(s).toMatchObject({ Healthy: false, Leader: "" })
  // A write is refused at once (nothing was proposed: safe to retry elsewhere or later).
  const w = await mutate(`${m.url}/api/begin-downtime/lonely.example/3306/ops/no-quorum/1h`, 0)
  expect(w.status).toBe(503)
  return { samples, state: s.State, term: s.Term }
}

describe("a member whose peers are down", () => {
  it("keeps retrying past RaftJoinTimeoutSeconds, unhealthy, and rejoins when a peer comes back", async () => {
    const [survivor, a, b] = cluster.members as [Member, Member, Member]
    // The survivor runs with a short RaftJoinTimeoutSeconds: restarted into the formed cluster, it rejoins.
    ;(survivor.config as Record<string, unknown>).RaftJoinTimeoutSeconds = joinTimeoutSeconds
    await stopMember(cluster, survivor)
    await cluster.start(survivor)
    await waitUntil(`${survivor.name} raft-health healthy`, async () => (await api(survivor, "raft-health")).body === "healthy", 30_000)
    const { leader } = await leaderAmong(cluster, cluster.members, 30_000)
    await commitOps(leader, 0, 12)
    await stopMember(cluster, a)
    await stopMember(cluster, b)
    const t0 = Date.now()
    await waitUntil(`${survivor.name} to report raft-health unhealthy`, async () => (await api(survivor, "raft-health")).status === 500)
    const unhealthyAfter = Date.now() - t0
    // Both peers have exited: from here on nothing can raise its term but its own elections.
    const term = (await raftStatus(survivor))!.Term
    const waiting = await expectWaitingMember(survivor)
    // PreVote: a node that cannot win an election does not raise its term while it retries.
    expect(waiting.term).toBe(term)
    console.log(
      `${survivor === leader ? "leader" : "follower"} ${survivor.name} alone: raft-health 500 after ${unhealthyAfter} ms, still running ${joinTimeoutSeconds + 2} s ` +
        `later (${waiting.samples} samples, state ${waiting.state}, term ${waiting.term}; ${loadNote()})`
    )
    // Its own restart does not make it a stranger: having joined is recorded in RaftDataDir.
    await stopMember(cluster, survivor)
    await cluster.start(survivor)
    await expectWaitingMember(survivor)

    const t1 = Date.now()
    await cluster.start(a)
    const up = Date.now() - t1
    const { leader: next } = await leaderAmong(cluster, [survivor, a], 30_000)
    const elected = Date.now() - t1
    await waitUntil(`${survivor.name} healthy`, async () => (await api(survivor, "raft-health")).body === "healthy")
    console.log(
      `peer back: its process healthy after ${up} ms, leader ${next.name} after ${elected} ms, ` +
        `${survivor.name} raft-health healthy after ${Date.now() - t1} ms (${loadNote()})`
    )
    await commitOps(next, 12, 20)
    await cluster.start(b)
    await commitOps(next, 20, 24)
    for (const m of cluster.members) await expectSameTables(cluster, next, m)
  }, 180_000)
})
