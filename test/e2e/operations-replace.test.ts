/**
 * The deployment guide's "Replacing a node" on real node processes (docs/operations.md): the rolling
 * path RaftNodes [n1,n2,n3] → [n1,n2,nX] (stop n3, start nX with the new list, restart n1 then n2 with
 * it), checking that a leader exists whenever a majority of the configuration is up and that nX ends up
 * with the replicated tables.
 */
import { describe, expect, it } from "vitest"
import { loadNote } from "../support/cluster.js"
import {
  allLogLines,
  clusterForFile,
  api,
  commitOps,
  expectSameTables,
  logLines,
  leaderAmong as leaderAmongOf,
  type Member,
  newMember,
  raftStatus,
  setRaftNodes,
  stopMember,
  waitUntil,
  watchLeaders
} from "../support/operations.js"

const file = clusterForFile(3)
const extra = file.extra

const leaderAmong = (among: ReadonlyArray<Member>) => leaderAmongOf(file.cluster, among, 30_000)

const peers = async (m: Member) => [...((await api(m, "raft-peers")).body as Array<string>)].sort()

describe("replacing a node: the guide's rolling path", () => {
  it("RaftNodes [n1,n2,n3] → [n1,n2,nX]: stop n3, start nX, restart n1 and n2 with the new list", async () => {
    const [n1, n2, n3] = file.cluster.members as [Member, Member, Member]
    const { leader } = await leaderAmong([n1, n2, n3])
    // Throughout the replacement: never two nodes answering leader-check 200 at once.
    const watch = watchLeaders(file.cluster, () => [...file.cluster.members, ...extra])
    await commitOps(leader, 0, 20)
    // A node that has run for a while has a snapshot (RaftSnapshotIntervalSeconds, default 30 min): take
    // one now on every node, so the configuration is recorded in a snapshot as it is in production.
    for (const m of file.cluster.members) expect((await api(m, "raft-snapshot")).status).toBe(200)

    await stopMember(file.cluster, n3)
    let phase = await leaderAmong([n1, n2])
    console.log(`n3 stopped: leader ${phase.leader.name} (${phase.millis} ms; ${loadNote()})`)

    const newList = [n1.raftAddress, n2.raftAddress]
    const nX = await newMember(file.cluster, "nodeX", [])
    newList.push(nX.raftAddress)
    setRaftNodes(nX, newList)
    extra.push(nX)
    await file.cluster.start(nX)
    // nX is refused: n1 and n2 do not know it yet. It must not lead.
    await waitUntil("n1 or n2 to refuse nX", () => [...logLines(n1, nX.raftAddress), ...logLines(n2, nX.raftAddress)].some((l) => l.includes("not in the peer set")))
    expect(await file.cluster.leaderCheck(nX)).toBe(404)
    await waitUntil("nX to log why it is refused", () => logLines(nX, "refuses this node").length > 0)
    console.log(`nX, refused:\n  ${logLines(nX, "refuses this node")[0]}`)
    phase = await leaderAmong([n1, n2])
    await commitOps(phase.leader, 20, 30)

    // Restart n1 with the new list; while it is down only n2 of [n1,n2,n3] runs (no majority).
    setRaftNodes(n1, newList)
    await stopMember(file.cluster, n1)
    const restarted = Date.now()
    await file.cluster.start(n1)
    phase = await leaderAmong([n1, n2, nX])
    console.log(`n1 restarted with the new RaftNodes: leader ${phase.leader.name} after ${phase.millis} ms (${loadNote()})`)
    // n1 and nX, a majority of the new list, now ask for it: the leader adds nX, then removes n3. As in
    // any rolling restart, the operator waits for that (raft-peers) before restarting the next node.
    await waitUntil("the configuration to become the new list", async () => (await peers(n1)).join() === [...newList].sort().join(), 30_000)
    console.log(`configuration [n1,n2,nX] ${Date.now() - restarted} ms after n1 was started with it (${loadNote()})`)
    await commitOps(phase.leader, 30, 40)
    await expectSameTables(file.cluster, phase.leader, nX)

    // Restart n2 with the new list; while it is down n1 and nX are a majority of [n1,n2,nX]: a leader must exist.
    setRaftNodes(n2, newList)
    await stopMember(file.cluster, n2)
    phase = await leaderAmong([n1, nX])
    console.log(`n2 down: leader ${phase.leader.name} among n1 and nX after ${phase.millis} ms (${loadNote()})`)
    await commitOps(phase.leader, 40, 50)
    await file.cluster.start(n2)
    phase = await leaderAmong([n1, n2, nX])
    await commitOps(phase.leader, 50, 60)

    for (const m of [n1, n2, nX]) expect(await peers(m), m.name).toEqual([...newList].sort())
    for (const m of [n1, n2, nX]) await expectSameTables(file.cluster, phase.leader, m)
    const s = (await raftStatus(nX))!
    expect(s.Healthy).toBe(true)
    const { violations, samples } = await watch.stop()
    console.log(`leader-check sampled ${samples} times during the replacement`)
    expect(violations).toEqual([])
    // Each step was a raft configuration change, logged by the leader that made it.
    const steps = [n1, n2].flatMap((m) => allLogLines(m, "is declared by a majority of its nodes"))
    console.log(`reconciliation:\n  ${steps.join("\n  ")}`)
    expect(steps.some((l) => l.includes(`adding ${nX.raftAddress}`))).toBe(true)
  }, 180_000)
})
