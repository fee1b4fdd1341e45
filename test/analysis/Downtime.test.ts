/**
 * Downtime, maintenance, hostname filters, ReduceReplicationAnalysisCount, cluster selection and output
 * order — orchestrator's `appendAnalysis` and the query's WHERE / HAVING / ORDER BY.
 */
import { describe, expect, it } from "@effect/vitest"
import { analyze } from "../../core/analysis/Analyze.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import * as Stale from "../../core/analysis/StaleCoordinates.js"
import type { Downtime } from "../../core/backend/Repository.js"
import type { Instance } from "../../core/topology/Instance.js"
import { run } from "./run.js"
import { dead, failingToConnect, master, now, replica, sec, semiSyncMaster, stopped } from "./fixtures.js"

const downtime = (i: Instance, endInSeconds = 3600): Downtime => ({
  key: i.key,
  owner: "ops",
  reason: "maintenance window",
  beginTimestamp: now - 60 * sec,
  endTimestamp: now + endInSeconds * sec
})

const m = master()

describe("downtime", () => {
  it("a downtimed dead master is reported but skippable, and dropped when downtimed entries are not asked for", () => {
    const topology = [dead(m), replica("r1", m, failingToConnect)]
    expect(run(topology, { downtimes: [downtime(m)] })).toEqual([
      "m1:3306 DeadMaster R=1/VR=1/VRR=0/FC=1 downtimed,skippable,actionable",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
    expect(run(topology, { downtimes: [downtime(m)] }, {})).toEqual([
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("the downtime fields: end timestamp and remaining seconds", () => {
    const [a] = analyze(Snapshot.make({ now, instances: [dead(m)], downtimes: [downtime(m, 90)] }), { includeDowntimed: true })
    expect(a).toMatchObject({ isDowntimed: true, downtimeEndAt: now + 90 * sec, downtimeRemainingSeconds: 90 })
  })

  it("an expired downtime does not count", () => {
    expect(run([dead(m)], { downtimes: [downtime(m, -1)] })).toEqual(["m1:3306 DeadMasterWithoutReplicas R=0/VR=0/VRR=0/FC=0"])
  })

  it("all replicas downtimed makes a replica-centric code skippable (IsReplicasDowntimed)", () => {
    const r1 = replica("r1", m, stopped)
    const r2 = replica("r2", m, stopped)
    expect(run([m, r1, r2], { downtimes: [downtime(r1), downtime(r2)] })).toEqual([
      "m1:3306 AllMasterReplicasNotReplicating R=2/VR=2/VRR=0/FC=0 replicas-downtimed,skippable"
    ])
    expect(run([m, r1, r2], { downtimes: [downtime(r1)] })).toEqual([
      "m1:3306 AllMasterReplicasNotReplicating R=2/VR=2/VRR=0/FC=0"
    ])
  })

  it("all replicas downtimed does not hide a dead master (not replica-centric)", () => {
    const r1 = replica("r1", m, failingToConnect)
    expect(run([dead(m), r1], { downtimes: [downtime(r1)] })[0]).toBe("m1:3306 DeadMaster R=1/VR=1/VRR=0/FC=1 actionable")
  })
})

describe("maintenance, filters, reduction", () => {
  const maintenance = (i: Instance) => ({
    id: 1,
    key: i.key,
    owner: "ops",
    reason: "upgrade",
    beginTimestamp: now - 60 * sec,
    endTimestamp: now + 600 * sec,
    processingNodeHostname: "orc1",
    processingNodeToken: "t",
    explicitlyBounded: true
  })

  it("an instance under maintenance is not analyzed, but still counts as its master's replica", () => {
    const r1 = replica("r1", m, failingToConnect)
    expect(run([dead(m), r1], { maintenance: [maintenance(m)] })).toEqual([
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
    expect(run([dead(m), r1], { maintenance: [maintenance(r1)] })).toEqual(["m1:3306 DeadMaster R=1/VR=1/VRR=0/FC=1 actionable"])
  })

  it("RecoveryIgnoreHostnameFilters drop matching hostnames (regexp)", () => {
    const policy = { ...Snapshot.defaultAnalysisPolicy, recoveryIgnoreHostnameFilters: ["^m[0-9]$"] }
    expect(run([dead(m), replica("r1", m, stopped)], { policy })).toEqual([])
  })

  it("ReduceReplicationAnalysisCount hides valid leaves: a standalone read_only master warns only without it", () => {
    const ro = { ...m, readOnly: true }
    expect(run([ro])).toEqual([])
    const policy = { ...Snapshot.defaultAnalysisPolicy, reduceReplicationAnalysisCount: false }
    expect(run([ro], { policy })).toEqual(["m1:3306 NoProblem [NoWriteableMasterStructureWarning] R=0/VR=0/VRR=0/FC=0"])
  })

  it("cluster selection and hostname resolution of the master", () => {
    const other = master("x1", { clusterName: "x1:3306" })
    const topology = [dead(m), replica("r1", m, stopped), dead(other)]
    expect(run(topology, {}, { includeDowntimed: true, clusterName: "x1:3306" })).toEqual([
      "x1:3306 DeadMasterWithoutReplicas R=0/VR=0/VRR=0/FC=0"
    ])
    // Replicas name the master by its resolved hostname (orchestrator's hostname_resolve join).
    const byIp = replica("r2", { ...m, key: { ...m.key, hostname: "10.0.0.1" } as Instance["key"] }, stopped)
    expect(run([m, byIp], { resolvedHostnames: new Map([["m1", "10.0.0.1"]]) })).toEqual([
      "m1:3306 MasterSingleReplicaNotReplicating R=1/VR=1/VRR=0/FC=0"
    ])
  })

  it("output order: masters first, cluster masters first, more replicas first, then host", () => {
    const a = master("a1", { clusterName: "a1:3306" })
    const im = replica("im", m, stopped)
    const topology = [dead(a), m, im, replica("r2", im, stopped), replica("r3", im, stopped), dead(master("b1", { clusterName: "z" }))]
    expect(run(topology).map((l) => l.split(" ")[0])).toEqual(["m1:3306", "a1:3306", "b1:3306", "im:3306"])
  })
})

describe("stale coordinates history (LockedSemiSyncMaster input)", () => {
  const locked = semiSyncMaster(m, { status: true, wait: 1, clients: 0 })

  it("observe records hypotheses, keeps locked masters, forgets the rest; the lock is confirmed after the period", () => {
    const at = (t: number, history: Stale.StaleCoordinates) =>
      analyze(Snapshot.make({ now: t, instances: [locked, replica("r1", m)], staleCoordinates: history }))
    let history = Stale.empty
    const first = at(now, history)
    expect(first.map((a) => a.analysis)).toEqual(["LockedSemiSyncMasterHypothesis"])
    history = Stale.observe(history, first, now)
    expect(history.get("m1:3306")?.firstSeenAt).toBe(now)
    const later = at(now + 11 * sec, history)
    expect(later.map((a) => a.analysis)).toEqual(["LockedSemiSyncMaster"])
    expect(Stale.observe(history, later, now + 11 * sec)).toEqual(history)
    expect(Stale.observe(history, [], now + 12 * sec).size).toBe(0)
  })

  it("record restarts the period when the coordinates move", () => {
    const h1 = Stale.record(Stale.empty, m.key, m.selfBinlogCoordinates, now)
    expect(Stale.record(h1, m.key, m.selfBinlogCoordinates, now + 5 * sec)).toBe(h1)
    const moved = { ...m.selfBinlogCoordinates, logPos: 5000 }
    expect(Stale.record(h1, m.key, moved, now + 5 * sec).get("m1:3306")).toEqual({ coordinates: moved, firstSeenAt: now + 5 * sec })
  })
})
