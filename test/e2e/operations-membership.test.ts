/**
 * Membership on real node processes (docs/operations.md): a node started with a RaftNodes the cluster
 * does not share is refused with a clear log line and never leads; the online replacement (raft-add-peer
 * nodeX, then raft-remove-peer node3, no restarts); and a node restarted afterwards with its old, unedited
 * RaftNodes keeps the configuration made through the API.
 */
import { describe, expect, it } from "vitest"
import { loadNote } from "../support/cluster.js"
import {
  api,
  clusterForFile,
  changeMembership,
  commitOps,
  expectSameTables,
  leaderAmong,
  logLines,
  type Member,
  newMember,
  sleep,
  stopMember,
  waitUntil,
  watchLeaders
} from "../support/operations.js"

const file = clusterForFile(3)
const extra = file.extra

const peers = async (m: Member) => [...((await api(m, "raft-peers")).body as Array<string>)].sort()
const sortedAddresses = (ms: ReadonlyArray<Member>) => ms.map((m) => m.raftAddress).sort()

describe("RaftNodes the cluster does not share", () => {
  it("a node started with [n1,n2,nY] into a cluster of [n1,n2,n3] is refused, says why, never leads, and exits after RaftJoinTimeoutSeconds", async () => {
    const [n1, n2] = file.cluster.members as [Member, Member, Member]
    const { leader } = await leaderAmong(file.cluster, file.cluster.members, 30_000)
    const watch = watchLeaders(file.cluster, () => [...file.cluster.members, ...extra], () => extra)
    const nY = await newMember(file.cluster, "nodeY", [])
    ;(nY.config as Record<string, unknown>).RaftNodes = [n1.raftAddress, n2.raftAddress, nY.raftAddress]
    ;(nY.config as Record<string, unknown>).RaftJoinTimeoutSeconds = 5
    extra.push(nY)
    const t0 = Date.now()
    await file.cluster.start(nY)
    const up = Date.now() - t0
    const child = nY.process!.child
    await waitUntil("nY to exit", () => child.exitCode !== null, 30_000)
    console.log(`nY: process healthy after ${up} ms, exited with ${child.exitCode} ${Date.now() - t0 - up} ms later (RaftJoinTimeoutSeconds 5; ${loadNote()})`)
    const out = nY.process!.output().split("\n")
    const refused = out.filter((l) => l.includes("refuses this node"))
    const exit = out.filter((l) => l.includes("has not joined the cluster"))
    console.log(`nY logged:\n  ${[...refused, ...exit].join("\n  ")}`)
    expect(child.exitCode).toBe(2)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]).toContain(`is not in the configuration of`)
    expect(exit[0]).toContain("refused it")
    // The members log the refusal once, at warning, naming their configuration.
    const memberSide = [...logLines(n1, nY.raftAddress), ...logLines(n2, nY.raftAddress)].filter((l) => l.includes("not in the peer set"))
    expect(memberSide.length).toBeGreaterThan(0)
    console.log(`members logged:\n  ${memberSide[0]}`)
    await nY.process!.stop("SIGKILL")
    nY.process = undefined
    const { violations } = await watch.stop()
    expect(violations).toEqual([])
    // The cluster did not notice: same configuration, a leader, still committing. (On a starved machine
    // leadership may move for its own reasons; what nY must not cause is a change of configuration.)
    const { leader: now } = await leaderAmong(file.cluster, file.cluster.members, 30_000)
    console.log(`leader before nY: ${leader.name}, after: ${now.name}`)
    for (const m of file.cluster.members) expect(await peers(m)).toEqual(sortedAddresses(file.cluster.members))
    await commitOps(now, 0, 8)
  }, 120_000)
})

describe("replacing a node online", () => {
  it("raft-add-peer nX, start nX, raft-remove-peer n3 — no restarts; nX catches up, n3 is no longer a peer", async () => {
    const [n1, n2, n3] = file.cluster.members as [Member, Member, Member]
    const { leader } = await leaderAmong(file.cluster, file.cluster.members, 30_000)
    const follower = file.cluster.members.find((m) => m !== leader)!
    const watch = watchLeaders(file.cluster, () => [...file.cluster.members, ...extra])
    await commitOps(leader, 10, 30)
    // nX lists the current members and itself: whichever node leads, nX accepts its connection.
    const nX = await newMember(file.cluster, "nodeX", [])
    ;(nX.config as Record<string, unknown>).RaftNodes = [n1.raftAddress, n2.raftAddress, n3.raftAddress, nX.raftAddress]
    extra.push(nX)

    // A follower forwards both requests to the leader (orchestrator proxies these two).
    const added = await changeMembership(follower, "raft-add-peer", nX.raftAddress)
    expect(added, JSON.stringify(added.body)).toMatchObject({ status: 200, body: nX.raftAddress })
    const t0 = Date.now()
    await file.cluster.start(nX)
    const up = Date.now() - t0
    await expectSameTables(file.cluster, leader, nX)
    const caughtUp = Date.now() - t0
    expect(await peers(leader)).toEqual(sortedAddresses([n1, n2, n3, nX]))

    const removed = await changeMembership(follower, "raft-remove-peer", n3.raftAddress)
    expect(removed, JSON.stringify(removed.body)).toMatchObject({ status: 200, body: n3.raftAddress })
    if (added.attempts + removed.attempts > 2) console.log(`membership changes took ${added.attempts} and ${removed.attempts} attempts`)
    const remaining = [n1, n2, nX]
    await waitUntil("n1, n2 and nX to drop n3", async () => {
      const ps = await Promise.all(remaining.map(peers))
      return ps.every((p) => p.join() === sortedAddresses(remaining).join())
    })
    console.log(
      `online replacement: nX process healthy ${up} ms after its start, tables equal after ${caughtUp} ms, ` +
        `n3 out of every configuration after ${Date.now() - t0} ms (${loadNote()})`
    )
    // n3 still runs but is out: it never answers leader-check 200, and the others keep committing.
    const { leader: newLeader } = await leaderAmong(file.cluster, remaining, 30_000)
    await commitOps(newLeader, 30, 40)
    for (const m of remaining) await expectSameTables(file.cluster, newLeader, m)
    for (let i = 0; i < 20; i++) {
      expect(await file.cluster.leaderCheck(n3)).not.toBe(200)
      await sleep(50)
    }
    await stopMember(file.cluster, n3)
    const { violations, samples } = await watch.stop()
    console.log(`leader-check sampled ${samples} times`)
    expect(violations).toEqual([])
  }, 120_000)

  it("a node restarted with its old, unedited RaftNodes keeps the configuration made through the API", async () => {
    const [n1, n2] = file.cluster.members as [Member, Member, Member]
    const nX = extra.find((m) => m.name === "nodeX")!
    const expected = sortedAddresses([n1, n2, nX])
    await stopMember(file.cluster, n1)
    await file.cluster.start(n1)
    const warning = logLines(n1, "differs from the configuration in RaftDataDir")
    console.log(`n1 (RaftNodes still [n1,n2,n3]) logged:\n  ${warning.join("\n  ")}`)
    expect(warning.length).toBe(1)
    expect(warning[0]).toContain("which is used")
    const { leader } = await leaderAmong(file.cluster, [n1, n2, nX], 30_000)
    await commitOps(leader, 40, 44)
    await sleep(1000)
    for (const m of [n1, n2, nX]) expect(await peers(m), m.name).toEqual(expected)
    await expectSameTables(file.cluster, leader, n1)
  }, 120_000)
})
