/**
 * The deployment guide's "A node crashes for too long, or a node is re-provisioned", on real node
 * processes: a node that lost its RaftDataDir and backend file while the leader compacted its log past
 * everything the node had is started empty and comes back on its own through InstallSnapshot; and the
 * guide's manual path (copy another node's backend, start with an empty RaftDataDir). The cluster
 * snapshots every 16 applied entries and keeps 4 behind a snapshot so compaction happens within a test.
 */
import Database from "better-sqlite3"
import * as os from "node:os"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Cluster, startCluster } from "../support/cluster.js"
import {
  api,
  appliedIndex,
  commitOps,
  expectSameTables,
  leaderAmong,
  logLines,
  type Member,
  raftStatus,
  replicatedDump,
  rowCount,
  waitUntil,
  wipe
} from "../support/operations.js"

const trailingLogs = 4
let cluster: Cluster

beforeAll(async () => {
  cluster = await startCluster(3, { RaftSnapshotThreshold: 16, RaftTrailingLogs: trailingLogs })
}, 120_000)
afterAll(async () => {
  await cluster?.stopAll()
})

describe("a node that lost its data", () => {
  it("started with an empty RaftDataDir and backend after the leader compacted past it, it is caught up by InstallSnapshot", async () => {
    const leader = (await leaderAmong(cluster, cluster.members, 30_000)).leader
    const [victim, other] = cluster.members.filter((m) => m !== leader) as [Member, Member]
    await commitOps(leader, 0, 10)
    await expectSameTables(cluster, leader, victim)
    const lostAt = (await raftStatus(victim))!.LastIndex

    expect(await cluster.stop(victim)).toBe(0)
    wipe(victim)
    // Enough ops that the leader snapshots and compacts its log past the victim's last index.
    await commitOps(leader, 10, 70)
    const s = (await raftStatus(leader))!
    expect(s.SnapshotIndex - trailingLogs).toBeGreaterThan(lostAt)
    expect(logLines(leader, "raft: snapshot taken").length).toBeGreaterThan(0)

    const t0 = Date.now()
    await cluster.start(victim)
    const up = Date.now() - t0
    await expectSameTables(cluster, leader, victim)
    const caughtUp = Date.now() - t0
    const installed = logLines(victim, "raft: installed snapshot")
    console.log(
      `empty node: process healthy after ${up} ms, replicated tables equal to the leader's after ${caughtUp} ms ` +
        `(leader snapshot index ${s.SnapshotIndex}, ${rowCount(replicatedDump(cluster, victim))} rows; 2 cores, load ${os.loadavg()[0]!.toFixed(1)})\n  ${installed.join("\n  ")}`
    )
    expect(installed.length).toBeGreaterThan(0)
    await expectSameTables(cluster, leader, other)
    await waitUntil(`${victim.name} raft-health healthy`, async () => (await api(victim, "raft-health")).body === "healthy")
    // It is a full member again: ops after the install reach it too.
    await commitOps(leader, 70, 74)
    await expectSameTables(cluster, leader, victim)
  }, 120_000)

  it("the guide's manual path: a copy of another node's backend file, an empty RaftDataDir, start", async () => {
    const leader = (await leaderAmong(cluster, cluster.members, 30_000)).leader
    const [victim, source] = cluster.members.filter((m) => m !== leader) as [Member, Member]
    expect(await cluster.stop(victim)).toBe(0)
    wipe(victim)
    await commitOps(leader, 100, 140)
    // `sqlite3 source.db ".backup copy.db"`: an online, consistent copy of a running node's backend.
    const src = new Database(String(source.config.SQLite3DataFile), { readonly: true })
    try {
      await src.backup(String(victim.config.SQLite3DataFile))
    } finally {
      src.close()
    }
    const copiedAt = appliedIndex(cluster, victim)
    expect(copiedAt).toBeGreaterThan(0)

    const t0 = Date.now()
    await cluster.start(victim)
    const up = Date.now() - t0
    await commitOps(leader, 140, 150)
    await expectSameTables(cluster, leader, victim)
    console.log(
      `backend copied at applied index ${copiedAt}: process healthy after ${up} ms, tables equal after ${Date.now() - t0} ms (2 cores, load ${os.loadavg()[0]!.toFixed(1)})`
    )
    expect(appliedIndex(cluster, victim)).toBeGreaterThan(copiedAt)
    await waitUntil(`${victim.name} raft-health healthy`, async () => (await api(victim, "raft-health")).body === "healthy")
  }, 120_000)
})
