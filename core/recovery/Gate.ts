/**
 * Whether an analysis may start an automated recovery now, pure (spec orchestrator-compat §4.3, §4.5):
 * the codes we recover, downtime, the global switch, RecoverMasterClusterFilters (masters, co-masters) or
 * RecoverIntermediateMasterClusterFilters (intermediate masters), and anti-flapping
 * (an active recovery of the same cluster blocks a new one for RecoveryPeriodBlockSeconds unless acknowledged).
 * Manual recoveries (recover, force-master-*, graceful-*) skip downtime, filters and blocks (orchestrator's rule).
 */
import { filtersMatchCluster } from "../analysis/Filters.js"
import type { AnalysisCode, ReplicationAnalysis } from "../analysis/ReplicationAnalysis.js"
import type { Recovery } from "../backend/Repository.js"

/** `checkAndRecoverDeadMaster`'s codes. */
export const deadMasterCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>(["DeadMaster", "DeadMasterAndSomeReplicas"])

/** `checkAndRecoverDeadIntermediateMaster`'s codes (orchestrator's getCheckAndRecoverFunction). */
export const intermediateMasterCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  "DeadIntermediateMaster",
  "DeadIntermediateMasterAndSomeReplicas",
  "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
  "AllIntermediateMasterReplicasFailingToConnectOrDead"
])

/** `checkAndRecoverDeadCoMaster`'s codes. */
export const coMasterCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>(["DeadCoMaster", "DeadCoMasterAndSomeReplicas"])

/** The analysis codes this implementation recovers. */
export const recoverableCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  ...deadMasterCodes,
  ...intermediateMasterCodes,
  ...coMasterCodes
])

/**
 * orchestrator's generic codes (`checkAndRecoverGenericProblem`): the leader registers their detection and runs
 * OnFailureDetectionProcesses once per detection period, and recovers nothing — gates, blocks and quorum do not
 * apply (orchestrator's filters and anti-flapping live in the recovery functions these codes do not have).
 */
export const genericCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  "DeadMasterAndReplicas",
  "UnreachableMasterWithLaggingReplicas",
  "UnreachableMaster",
  "AllMasterReplicasNotReplicating",
  "AllMasterReplicasNotReplicatingOrDead",
  "DeadIntermediateMasterAndReplicas",
  "UnreachableIntermediateMasterWithLaggingReplicas"
])

/** The codes whose detection the leader registers (`register-failure-detection`, OnFailureDetectionProcesses). */
export const detectionCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([...recoverableCodes, ...genericCodes])

/** An intermediate master that other nodes cannot reach either, whatever its replicas report. */
const deadIntermediateMasterCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  "DeadIntermediateMaster",
  "DeadIntermediateMasterAndSomeReplicas",
  "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
  "DeadIntermediateMasterWithSingleReplica",
  "DeadIntermediateMasterAndReplicas"
])

/**
 * Detections that agree with a leader's (quorum-agreed detection): the same failure seen from another node, in the
 * same family. UnreachableMaster is no agreement: its replicas still see the master. A peer that reaches the
 * intermediate master (AllIntermediateMasterReplicasFailingToConnectOrDead) does not agree that it is dead; one that
 * sees it dead does agree that its replicas must move.
 */
export const agreeingCodes = (code: AnalysisCode): ReadonlySet<AnalysisCode> =>
  deadIntermediateMasterCodes.has(code)
    ? deadIntermediateMasterCodes
    : code === "AllIntermediateMasterReplicasFailingToConnectOrDead"
    ? new Set<AnalysisCode>([code, ...deadIntermediateMasterCodes])
    : coMasterCodes.has(code)
    ? coMasterCodes
    : new Set<AnalysisCode>(["DeadMaster", "DeadMasterAndSomeReplicas", "DeadMasterAndReplicas", "DeadMasterWithoutReplicas"])

/** Codes gated by RecoverMasterClusterFilters (orchestrator's HasAutomatedMasterRecovery; co-masters too). */
export const masterCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  "DeadMaster",
  "DeadCoMaster",
  "DeadCoMasterAndSomeReplicas",
  "DeadMasterAndSomeReplicas",
  "DeadMasterWithoutReplicas",
  "DeadMasterAndReplicas",
  "UnreachableMaster",
  "UnreachableMasterWithLaggingReplicas",
  "LockedSemiSyncMaster",
  "MasterWithTooManySemiSyncReplicas",
  "NoWriteableMasterStructureWarning"
])

export interface GatePolicy {
  readonly recoverMasterClusterFilters: ReadonlyArray<string>
  readonly recoverIntermediateMasterClusterFilters: ReadonlyArray<string>
  /** RecoveryPeriodBlockSeconds, or RecoveryPeriodBlockMinutes × 60 when Seconds is 0 (orchestrator's legacy rule). */
  readonly recoveryPeriodBlockSeconds: number
}

export type GateVerdict =
  | { readonly _tag: "Proceed" }
  | { readonly _tag: "Skip"; readonly reason: string }
  /** Recorded in blocked recoveries (orchestrator `blocked_topology_recovery`). */
  | { readonly _tag: "Blocked"; readonly reason: string; readonly blockingRecoveryId: number }

/** A recovery that still blocks its cluster at `now`. */
export const isActive = (r: Recovery, now: number, policy: GatePolicy): boolean =>
  r.inActivePeriod && !r.acknowledged && now < r.startActivePeriod + policy.recoveryPeriodBlockSeconds * 1000

export const activeRecoveryOf = (
  recoveries: ReadonlyArray<Recovery>,
  clusterName: string,
  now: number,
  policy: GatePolicy
): Recovery | undefined => recoveries.find((r) => r.clusterName === clusterName && isActive(r, now, policy))

export interface GateInput {
  readonly analysis: ReplicationAnalysis
  readonly recoveries: ReadonlyArray<Recovery>
  readonly globallyDisabled: boolean
  readonly now: number
  readonly policy: GatePolicy
}

export const gate = (input: GateInput): GateVerdict => {
  const a = input.analysis
  if (!recoverableCodes.has(a.analysis)) return { _tag: "Skip", reason: `${a.analysis} has no automated recovery here` }
  if (!a.isActionableRecovery) return { _tag: "Skip", reason: "not actionable" }
  if (a.skippableDueToDowntime || a.isDowntimed) return { _tag: "Skip", reason: "downtimed: automated recovery skipped" }
  if (input.globallyDisabled) return { _tag: "Skip", reason: "global recoveries disabled" }
  const filters = masterCodes.has(a.analysis) ? input.policy.recoverMasterClusterFilters : input.policy.recoverIntermediateMasterClusterFilters
  const ref = { clusterName: a.clusterDetails.clusterName, clusterAlias: a.clusterDetails.clusterAlias }
  if (!filtersMatchCluster(filters, ref)) {
    return { _tag: "Skip", reason: `cluster ${ref.clusterName} does not match ${masterCodes.has(a.analysis) ? "RecoverMasterClusterFilters" : "RecoverIntermediateMasterClusterFilters"}` }
  }
  // orchestrator AttemptRecoveryRegistration: the failed instance was itself promoted by a recovery still in its
  // active period, or the cluster (its name changes with its master, so the alias too) has an active recovery.
  const k = a.analyzedInstanceKey
  const active = input.recoveries.find((r) =>
    isActive(r, input.now, input.policy) && (
      (r.successorKey !== null && r.successorKey.hostname === k.hostname && r.successorKey.port === k.port) ||
      r.clusterName === a.clusterDetails.clusterName ||
      (r.clusterAlias !== "" && r.clusterAlias === a.clusterDetails.clusterAlias)
    )
  )
  if (active !== undefined) {
    return {
      _tag: "Blocked",
      reason: `active recovery ${active.id} (${active.uid}) of cluster ${active.clusterName} since ${new Date(active.startActivePeriod).toISOString()}; acknowledge it or wait RecoveryPeriodBlockSeconds`,
      blockingRecoveryId: active.id
    }
  }
  return { _tag: "Proceed" }
}

/** How many nodes (this one included) must see the failure: a majority of the raft voters. */
export const quorumOf = (voters: number): number => Math.floor(voters / 2) + 1
