/**
 * A golden test per analysis code and per structure warning, from seeded snapshots (pure). Each scenario
 * is a small topology; the expected value lists every reported entry as
 * `host:port Code [warnings] R=…/VR=…/VRR=…/FC=…` plus flags, so a diff reads like the API output.
 */
import { describe, expect, it } from "@effect/vitest"
import { replicationRules } from "../../core/analysis/Codes.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import type { Instance } from "../../core/topology/Instance.js"
import {
  coMasters,
  dead,
  failingToConnect,
  key,
  master,
  now,
  partial,
  replica,
  sec,
  semiSyncMaster,
  server,
  stopped
} from "./fixtures.js"
import { run } from "./run.js"

const policy = (p: Partial<Snapshot.AnalysisPolicy>) => ({ policy: { ...Snapshot.defaultAnalysisPolicy, ...p } })

describe("dead and unreachable masters", () => {
  const m = master()

  it("DeadMasterWithoutReplicas", () => {
    expect(run([dead(m)])).toEqual(["m1:3306 DeadMasterWithoutReplicas R=0/VR=0/VRR=0/FC=0"])
  })

  it("DeadMaster: replicas reachable, none replicating", () => {
    expect(run([dead(m), replica("r1", m, failingToConnect), replica("r2", m, failingToConnect)])).toEqual([
      "m1:3306 DeadMaster R=2/VR=2/VRR=0/FC=2 actionable",
      // Each first-tier replica that lost its master is an entry of its own (as in orchestrator).
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0",
      "r2:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("DeadMasterAndReplicas: the replicas are unreachable too", () => {
    expect(run([dead(m), dead(replica("r1", m)), dead(replica("r2", m))])).toEqual([
      // No valid replica: nothing proves GTID support, hence the structure warning (orchestrator's counts).
      "m1:3306 DeadMasterAndReplicas [NoFailoverSupportStructureWarning] R=2/VR=0/VRR=0/FC=0"
    ])
  })

  it("DeadMasterAndSomeReplicas", () => {
    expect(run([dead(m), replica("r1", m, failingToConnect), dead(replica("r2", m))])).toEqual([
      "m1:3306 DeadMasterAndSomeReplicas R=2/VR=1/VRR=0/FC=1 actionable",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("UnreachableMasterWithLaggingReplicas", () => {
    expect(run([dead(m), replica("r1", m, { lag: 60 }), replica("r2", m, { lag: 45 })])).toEqual([
      "m1:3306 UnreachableMasterWithLaggingReplicas R=2/VR=2/VRR=2/FC=0"
    ])
  })

  it("UnreachableMaster: this node lost the master, its replicas did not (partial partition)", () => {
    expect(run([dead(m), replica("r1", m), replica("r2", m)])).toEqual([
      "m1:3306 UnreachableMaster R=2/VR=2/VRR=2/FC=0"
    ])
  })

  it("UnreachableMaster after a partial probe needs a replica failing to connect", () => {
    expect(run([partial(m), replica("r1", m), replica("r2", m)])).toEqual([])
    expect(run([partial(m), replica("r1", m), replica("r2", m, failingToConnect)])).toEqual([
      "m1:3306 UnreachableMaster R=2/VR=2/VRR=1/FC=1",
      "r2:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("a hung probe invalidates the master after InstancePollSeconds + ReasonableInstanceCheckSeconds", () => {
    // The last good probe was `ageSeconds` ago; a probe started now has not returned.
    const hung = (ageSeconds: number): Instance => ({
      ...m,
      lastSeenAt: now - ageSeconds * sec,
      lastCheckedAt: now - ageSeconds * sec,
      lastAttemptedCheckAt: now
    })
    expect(run([hung(6), replica("r1", m, failingToConnect)])).toEqual([
      "m1:3306 MasterSingleReplicaNotReplicating R=1/VR=1/VRR=0/FC=1",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
    expect(run([hung(7), replica("r1", m, failingToConnect)])).toEqual([
      "m1:3306 DeadMaster R=1/VR=1/VRR=0/FC=1 actionable",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("a master that lists replicas is probed every MasterPollMillis: its hung-probe slack is that + 1 s", () => {
    const withReplicas: Instance = { ...m, replicas: [key("r1")] }
    const hung = (ageSeconds: number): Instance => ({
      ...withReplicas,
      lastSeenAt: now - ageSeconds * sec,
      lastCheckedAt: now - ageSeconds * sec,
      lastAttemptedCheckAt: now
    })
    const r1 = replica("r1", withReplicas, failingToConnect)
    expect(run([hung(2), r1])).toEqual([
      "m1:3306 MasterSingleReplicaNotReplicating R=1/VR=1/VRR=0/FC=1",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
    expect(run([hung(3), r1])).toEqual([
      "m1:3306 DeadMaster R=1/VR=1/VRR=0/FC=1 actionable",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
    // MasterPollMillis = 0 (masters on the InstancePollSeconds cadence): orchestrator's slack again.
    expect(run([hung(3), r1], policy({ masterPollSeconds: 5 }))).toEqual([
      "m1:3306 MasterSingleReplicaNotReplicating R=1/VR=1/VRR=0/FC=1",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
    // Replicas that still replicate from it: no failover on the master's probe alone (its last complete probe
    // succeeded, so orchestrator's UnreachableMaster also wants a replica failing to connect).
    expect(run([hung(3), replica("r1", withReplicas)])).toEqual([])
  })
})

describe("reachable masters", () => {
  const m = master()

  it("LockedSemiSyncMasterHypothesis without history", () => {
    expect(run([semiSyncMaster(m, { status: true, wait: 1, clients: 0 }), replica("r1", m)])).toEqual([
      "m1:3306 LockedSemiSyncMasterHypothesis R=1/VR=1/VRR=1/FC=0"
    ])
  })

  it("LockedSemiSyncMaster once the binlog coordinates are stale longer than ReasonableLockedSemiSyncMasterSeconds", () => {
    const locked = semiSyncMaster(m, { status: true, wait: 1, clients: 0 })
    const history = (ageSeconds: number) => ({
      staleCoordinates: new Map([["m1:3306", { coordinates: m.selfBinlogCoordinates, firstSeenAt: now - ageSeconds * sec }]])
    })
    expect(run([locked, replica("r1", m)], history(10))).toEqual(["m1:3306 LockedSemiSyncMasterHypothesis R=1/VR=1/VRR=1/FC=0"])
    expect(run([locked, replica("r1", m)], history(11))).toEqual(["m1:3306 LockedSemiSyncMaster R=1/VR=1/VRR=1/FC=0 actionable"])
    const moved = { ...locked, selfBinlogCoordinates: { ...m.selfBinlogCoordinates, logPos: 2000 } }
    expect(run([moved, replica("r1", m)], history(60))).toEqual(["m1:3306 LockedSemiSyncMasterHypothesis R=1/VR=1/VRR=1/FC=0"])
  })

  it("MasterWithTooManySemiSyncReplicas only with EnforceExactSemiSyncReplicas", () => {
    const ss = semiSyncMaster(m, { status: true, wait: 1, clients: 2 })
    const rs = [replica("r1", m), replica("r2", m)]
    expect(run([ss, ...rs])).toEqual([])
    expect(run([ss, ...rs], policy({ enforceExactSemiSyncReplicas: true }))).toEqual([
      "m1:3306 MasterWithTooManySemiSyncReplicas R=2/VR=2/VRR=2/FC=0 actionable"
    ])
  })

  it("NoWriteableMasterStructureWarning as the analysis only with RecoverNonWriteableMaster", () => {
    const ro = { ...m, readOnly: true }
    expect(run([ro, replica("r1", m)])).toEqual(["m1:3306 NoProblem [NoWriteableMasterStructureWarning] R=1/VR=1/VRR=1/FC=0"])
    expect(run([ro, replica("r1", m)], policy({ recoverNonWriteableMaster: true }))).toEqual([
      "m1:3306 NoWriteableMasterStructureWarning [NoWriteableMasterStructureWarning] R=1/VR=1/VRR=1/FC=0 actionable"
    ])
  })

  it("MasterSingleReplicaNotReplicating", () => {
    expect(run([m, replica("r1", m, stopped)])).toEqual(["m1:3306 MasterSingleReplicaNotReplicating R=1/VR=1/VRR=0/FC=0"])
  })

  it("MasterSingleReplicaDead", () => {
    expect(run([m, dead(replica("r1", m))])).toEqual(["m1:3306 MasterSingleReplicaDead R=1/VR=0/VRR=0/FC=0"])
  })

  it("AllMasterReplicasNotReplicating", () => {
    expect(run([m, replica("r1", m, stopped), replica("r2", m, { io: "Yes", sql: "No" })])).toEqual([
      "m1:3306 AllMasterReplicasNotReplicating R=2/VR=2/VRR=0/FC=0"
    ])
  })

  it("AllMasterReplicasNotReplicatingOrDead", () => {
    expect(run([m, replica("r1", m, stopped), dead(replica("r2", m))])).toEqual([
      "m1:3306 AllMasterReplicasNotReplicatingOrDead R=2/VR=1/VRR=0/FC=0"
    ])
  })

  it("a healthy topology reports nothing, unless NoProblem is asked for", () => {
    const topology = [m, replica("r1", m), replica("r2", m)]
    expect(run(topology)).toEqual([])
    expect(run(topology, {}, { includeNoProblem: true })).toEqual(["m1:3306 NoProblem R=2/VR=2/VRR=2/FC=0"])
  })
})

describe("co-masters", () => {
  it("DeadCoMaster", () => {
    const [a, b] = coMasters()
    expect(run([dead(a), { ...b, ...failing(b) }])).toEqual([
      "cm1:3306 DeadCoMaster R=1/VR=1/VRR=0/FC=1 actionable",
      // The surviving co-master sees its only replica (the dead one) not replicating.
      "cm2:3306 AllCoMasterReplicasNotReplicating R=1/VR=0/VRR=0/FC=0"
    ])
  })

  it("DeadCoMasterAndSomeReplicas", () => {
    const [a, b] = coMasters()
    expect(run([dead(a), { ...b, ...failing(b) }, dead(replica("r1", a))])).toEqual([
      "cm1:3306 DeadCoMasterAndSomeReplicas R=2/VR=1/VRR=0/FC=1 actionable",
      "cm2:3306 AllCoMasterReplicasNotReplicating R=1/VR=0/VRR=0/FC=0"
    ])
  })

  it("UnreachableCoMaster", () => {
    const [a, b] = coMasters()
    expect(run([dead(a), b])).toEqual([
      "cm1:3306 UnreachableCoMaster R=1/VR=1/VRR=1/FC=0",
      "cm2:3306 AllCoMasterReplicasNotReplicating R=1/VR=0/VRR=0/FC=0"
    ])
  })

  it("AllCoMasterReplicasNotReplicating", () => {
    const [a, b] = coMasters()
    const bStopped = { ...b, replication: { ...b.replication!, ioRunning: "No", sqlRunning: "No" } }
    expect(run([a, bStopped])).toEqual(["cm1:3306 AllCoMasterReplicasNotReplicating R=1/VR=1/VRR=0/FC=0"])
  })
})

/** Replica `b` failing to connect to its master. */
const failing = (b: Instance): Partial<Instance> => ({
  replication: { ...b.replication!, ioRunning: "Connecting", lastIoError: failingToConnect.lastIoError! }
})

describe("intermediate masters", () => {
  const m = master()
  const im = replica("im", m)

  it("DeadIntermediateMasterWithSingleReplicaFailingToConnect", () => {
    expect(run([m, dead(im), replica("r1", im, failingToConnect)])).toEqual([
      "m1:3306 MasterSingleReplicaDead R=1/VR=0/VRR=0/FC=0",
      "im:3306 DeadIntermediateMasterWithSingleReplicaFailingToConnect R=1/VR=1/VRR=0/FC=1 actionable"
    ])
  })

  it("DeadIntermediateMasterWithSingleReplica", () => {
    // The master still has a replicating replica (r0), so only the intermediate master is reported.
    expect(run([m, replica("r0", m), dead(im), replica("r1", im, stopped)])).toEqual([
      "im:3306 DeadIntermediateMasterWithSingleReplica R=1/VR=1/VRR=0/FC=0"
    ])
  })

  it("DeadIntermediateMaster", () => {
    expect(run([dead(im), replica("r1", im, failingToConnect), replica("r2", im, failingToConnect)])).toEqual([
      "im:3306 DeadIntermediateMaster R=2/VR=2/VRR=0/FC=2 actionable"
    ])
  })

  it("DeadIntermediateMasterAndSomeReplicas", () => {
    expect(run([dead(im), replica("r1", im, failingToConnect), dead(replica("r2", im))])).toEqual([
      "im:3306 DeadIntermediateMasterAndSomeReplicas R=2/VR=1/VRR=0/FC=1 actionable"
    ])
  })

  it("DeadIntermediateMasterAndReplicas", () => {
    expect(run([dead(im), dead(replica("r1", im))])).toEqual([
      "im:3306 DeadIntermediateMasterAndReplicas R=1/VR=0/VRR=0/FC=0"
    ])
  })

  it("UnreachableIntermediateMasterWithLaggingReplicas", () => {
    expect(run([dead(im), replica("r1", im, { lag: 30 })])).toEqual([
      "im:3306 UnreachableIntermediateMasterWithLaggingReplicas R=1/VR=1/VRR=1/FC=0"
    ])
  })

  it("UnreachableIntermediateMaster", () => {
    expect(run([dead(im), replica("r1", im)])).toEqual(["im:3306 UnreachableIntermediateMaster R=1/VR=1/VRR=1/FC=0"])
  })

  it("AllIntermediateMasterReplicasFailingToConnectOrDead", () => {
    expect(run([im, replica("r1", im, failingToConnect), dead(replica("r2", im))])).toEqual([
      "im:3306 AllIntermediateMasterReplicasFailingToConnectOrDead R=2/VR=1/VRR=0/FC=1 actionable"
    ])
  })

  it("AllIntermediateMasterReplicasNotReplicating", () => {
    expect(run([im, replica("r1", im, stopped)])).toEqual(["im:3306 AllIntermediateMasterReplicasNotReplicating R=1/VR=1/VRR=0/FC=0"])
  })
})

describe("replicas failing to connect, group replication", () => {
  const m = master()

  it("FirstTierReplicaFailingToConnectToMaster (the master's entry says its single replica is not replicating)", () => {
    expect(run([m, replica("r1", m, failingToConnect)])).toEqual([
      "m1:3306 MasterSingleReplicaNotReplicating R=1/VR=1/VRR=0/FC=1",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("BinlogServerFailingToConnectToMaster", () => {
    const bls = replica("bls", m, failingToConnect, { flavor: "MaxScale", version: "2.5.0-maxscale" })
    expect(run([m, bls, replica("r1", m)])).toEqual([
      "m1:3306 NoProblem [MultipleMajorVersionsLoggingReplicasStructureWarning] R=2/VR=2/VRR=1/FC=1",
      "bls:3306 BinlogServerFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("DeadReplicationGroupMemberWithReplicas", () => {
    const group = { name: "g1", singlePrimary: true, memberState: "ONLINE", memberRole: "SECONDARY", members: [], primaryKey: null }
    const gm = server("gm2", { group, flavor: "MySQL", version: "8.0.36" })
    expect(run([dead(gm), replica("r1", gm, failingToConnect, { flavor: "MySQL", version: "8.0.36" })])).toEqual([
      "gm2:3306 DeadReplicationGroupMemberWithReplicas R=1/VR=1/VRR=0/FC=1 actionable",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })
})

describe("structure warnings", () => {
  const m = master()

  it("NoLoggingReplicasStructureWarning", () => {
    const noLsu = { logReplicationUpdatesEnabled: false }
    expect(run([m, replica("r1", m, {}, noLsu), replica("r2", m, {}, noLsu)])).toEqual([
      "m1:3306 NoProblem [NoLoggingReplicasStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
  })

  it("NoFailoverSupportStructureWarning", () => {
    expect(run([m, replica("r1", m, { usingGtid: "No" }), replica("r2", m, { usingGtid: "No" })])).toEqual([
      "m1:3306 NoProblem [NoFailoverSupportStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
    expect(run([{ ...m, usingPseudoGtid: true }, replica("r1", m, { usingGtid: "No" }), replica("r2", m, { usingGtid: "No" })])).toEqual([])
  })

  it("binlog format mixes", () => {
    const fmt = (f: string) => ({ binlogFormat: f })
    expect(run([m, replica("r1", m, {}, fmt("STATEMENT")), replica("r2", m, {}, fmt("MIXED"))])).toEqual([
      "m1:3306 NoProblem [StatementAndMixedLoggingReplicasStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
    expect(run([m, replica("r1", m, {}, fmt("STATEMENT")), replica("r2", m, {}, fmt("ROW"))])).toEqual([
      "m1:3306 NoProblem [StatementAndRowLoggingReplicasStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
    expect(run([m, replica("r1", m, {}, fmt("MIXED")), replica("r2", m, {}, fmt("ROW"))])).toEqual([
      "m1:3306 NoProblem [MixedAndRowLoggingReplicasStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
  })

  it("MultipleMajorVersionsLoggingReplicasStructureWarning", () => {
    expect(run([m, replica("r1", m, {}, { version: "10.6.18-MariaDB" }), replica("r2", m)])).toEqual([
      "m1:3306 NoProblem [MultipleMajorVersionsLoggingReplicasStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
  })

  it("DifferentGTIDModesStructureWarning", () => {
    const mysql = { flavor: "MySQL" as const, version: "8.0.36" }
    const mm = master("m1", { ...mysql, gtidMode: "ON" })
    expect(run([mm, replica("r1", mm, {}, { ...mysql, gtidMode: "ON" }), replica("r2", mm, {}, { ...mysql, gtidMode: "OFF" })])).toEqual([
      "m1:3306 NoProblem [DifferentGTIDModesStructureWarning] R=2/VR=2/VRR=2/FC=0"
    ])
  })

  it("ErrantGTIDStructureWarning, not counting downtimed replicas", () => {
    const errant = replica("r1", m, {}, { gtidErrant: "00020194-3333-3333-3333-333333333333:1" })
    expect(run([m, errant])).toEqual(["m1:3306 NoProblem [ErrantGTIDStructureWarning] R=1/VR=1/VRR=1/FC=0"])
    const downtime = { key: errant.key, owner: "ops", reason: "rebuild", beginTimestamp: now - 60 * sec, endTimestamp: now + 3600 * sec }
    expect(run([m, errant], { downtimes: [downtime] })).toEqual([])
  })

  it("NoWriteableMasterStructureWarning", () => {
    expect(run([{ ...m, readOnly: true }, replica("r1", m)])).toEqual([
      "m1:3306 NoProblem [NoWriteableMasterStructureWarning] R=1/VR=1/VRR=1/FC=0"
    ])
  })

  it("NotEnoughValidSemiSyncReplicasStructureWarning", () => {
    expect(run([semiSyncMaster(m, { status: false, wait: 1, clients: 0 }), replica("r1", m)])).toEqual([
      "m1:3306 NoProblem [NotEnoughValidSemiSyncReplicasStructureWarning] R=1/VR=1/VRR=1/FC=0"
    ])
  })
})

describe("precedence: first match wins", () => {
  const m = master()

  it("the rule table follows orchestrator's if/else chain", () => {
    expect(replicationRules.map((r) => r.code)).toEqual([
      "DeadMasterWithoutReplicas",
      "DeadMaster",
      "DeadMasterAndReplicas",
      "DeadMasterAndSomeReplicas",
      "UnreachableMasterWithLaggingReplicas",
      "UnreachableMaster",
      "UnreachableMaster",
      "LockedSemiSyncMaster",
      "LockedSemiSyncMasterHypothesis",
      "MasterWithTooManySemiSyncReplicas",
      "NoWriteableMasterStructureWarning",
      "MasterSingleReplicaNotReplicating",
      "MasterSingleReplicaDead",
      "AllMasterReplicasNotReplicating",
      "AllMasterReplicasNotReplicatingOrDead",
      "DeadCoMaster",
      "DeadCoMasterAndSomeReplicas",
      "UnreachableCoMaster",
      "AllCoMasterReplicasNotReplicating",
      "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
      "DeadIntermediateMasterWithSingleReplica",
      "DeadIntermediateMaster",
      "DeadIntermediateMasterAndSomeReplicas",
      "DeadIntermediateMasterAndReplicas",
      "UnreachableIntermediateMasterWithLaggingReplicas",
      "UnreachableIntermediateMaster",
      "AllIntermediateMasterReplicasFailingToConnectOrDead",
      "AllIntermediateMasterReplicasNotReplicating",
      "BinlogServerFailingToConnectToMaster",
      "FirstTierReplicaFailingToConnectToMaster"
    ])
  })

  it("a dead semi-sync master is DeadMaster, not LockedSemiSyncMaster", () => {
    const ss = semiSyncMaster(dead(m), { status: true, wait: 1, clients: 0 })
    expect(run([ss, replica("r1", m, failingToConnect)])).toEqual([
      "m1:3306 DeadMaster R=1/VR=1/VRR=0/FC=1 actionable",
      "r1:3306 FirstTierReplicaFailingToConnectToMaster R=0/VR=0/VRR=0/FC=0"
    ])
  })

  it("all replicas lagging and replicating: the lagging code comes before UnreachableMaster", () => {
    expect(run([dead(m), replica("r1", m, { lag: 60 })])).toEqual([
      "m1:3306 UnreachableMasterWithLaggingReplicas R=1/VR=1/VRR=1/FC=0"
    ])
  })

  it("delayed replicas are not 'lagging': UnreachableMaster", () => {
    expect(run([dead(m), replica("r1", m, { lag: 3600, sqlDelay: 3600 })])).toEqual([
      "m1:3306 UnreachableMaster R=1/VR=1/VRR=1/FC=0"
    ])
  })

  it("a single failing replica of a dead intermediate master: the FailingToConnect code wins over WithSingleReplica", () => {
    const im = replica("im", m)
    expect(run([dead(im), replica("r1", im, failingToConnect)]).at(-1)).toContain("DeadIntermediateMasterWithSingleReplicaFailingToConnect")
  })

  it("a co-master that is also read_only with a locked semi-sync: the semi-sync code wins (master rules first)", () => {
    const ss = semiSyncMaster({ ...m, readOnly: true }, { status: true, wait: 1, clients: 0 })
    expect(run([ss, replica("r1", m)], policy({ recoverNonWriteableMaster: true }))).toEqual([
      "m1:3306 LockedSemiSyncMasterHypothesis [NoWriteableMasterStructureWarning] R=1/VR=1/VRR=1/FC=0"
    ])
  })
})
