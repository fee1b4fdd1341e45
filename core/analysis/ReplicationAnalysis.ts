/**
 * The result of failure analysis for one analyzed instance: orchestrator's `ReplicationAnalysis`
 * (`go/inst/analysis.go`), as a typed value. `AnalysisJson` renders it with orchestrator's keys.
 *
 * The code lists are orchestrator's, spelled as its JSON spells them. `MasterWithoutReplicas` and
 * `AllMasterReplicasStale` are declared by orchestrator but never produced (its conditions are
 * commented out); they are listed so decoding a stored orchestrator analysis accepts them.
 */
import type { BinlogCoordinates } from "../topology/Instance.js"
import type { InstanceKey } from "../topology/InstanceKey.js"

export const analysisCodes = [
  "NoProblem",
  "DeadMasterWithoutReplicas",
  "DeadMaster",
  "DeadMasterAndReplicas",
  "DeadMasterAndSomeReplicas",
  "UnreachableMasterWithLaggingReplicas",
  "UnreachableMaster",
  "MasterSingleReplicaNotReplicating",
  "MasterSingleReplicaDead",
  "AllMasterReplicasNotReplicating",
  "AllMasterReplicasNotReplicatingOrDead",
  "LockedSemiSyncMasterHypothesis",
  "LockedSemiSyncMaster",
  "MasterWithTooManySemiSyncReplicas",
  "MasterWithoutReplicas",
  "AllMasterReplicasStale",
  "DeadCoMaster",
  "DeadCoMasterAndSomeReplicas",
  "UnreachableCoMaster",
  "AllCoMasterReplicasNotReplicating",
  "DeadIntermediateMaster",
  "DeadIntermediateMasterWithSingleReplica",
  "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
  "DeadIntermediateMasterAndSomeReplicas",
  "DeadIntermediateMasterAndReplicas",
  "UnreachableIntermediateMasterWithLaggingReplicas",
  "UnreachableIntermediateMaster",
  "AllIntermediateMasterReplicasFailingToConnectOrDead",
  "AllIntermediateMasterReplicasNotReplicating",
  "FirstTierReplicaFailingToConnectToMaster",
  "BinlogServerFailingToConnectToMaster",
  "DeadReplicationGroupMemberWithReplicas",
  // A structure warning that orchestrator also uses as the main analysis when RecoverNonWriteableMaster is on.
  "NoWriteableMasterStructureWarning"
] as const
export type AnalysisCode = (typeof analysisCodes)[number]

/** orchestrator's structure warnings, in the order it appends them to `StructureAnalysis`. */
export const structureCodes = [
  "NoLoggingReplicasStructureWarning",
  "NoFailoverSupportStructureWarning",
  "StatementAndMixedLoggingReplicasStructureWarning",
  "StatementAndRowLoggingReplicasStructureWarning",
  "MixedAndRowLoggingReplicasStructureWarning",
  "MultipleMajorVersionsLoggingReplicasStructureWarning",
  "DifferentGTIDModesStructureWarning",
  "ErrantGTIDStructureWarning",
  "NoWriteableMasterStructureWarning",
  "NotEnoughValidSemiSyncReplicasStructureWarning"
] as const
export type StructureCode = (typeof structureCodes)[number]

/**
 * orchestrator's `getCheckAndRecoverFunction` (go/logic/topology_recovery.go): the codes whose recovery
 * function changes the topology. DeadMaster/DeadMasterAndSomeReplicas/LockedSemiSyncMaster are demoted
 * to the generic (non-actionable) handler during the 5 s emergency graceful period — a recovery-time
 * fact this pure table does not know.
 */
export const actionableCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  "DeadMaster",
  "DeadMasterAndSomeReplicas",
  "LockedSemiSyncMaster",
  "MasterWithTooManySemiSyncReplicas",
  "DeadIntermediateMaster",
  "DeadIntermediateMasterAndSomeReplicas",
  "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
  "AllIntermediateMasterReplicasFailingToConnectOrDead",
  "DeadCoMaster",
  "DeadCoMasterAndSomeReplicas",
  "DeadReplicationGroupMemberWithReplicas",
  "NoWriteableMasterStructureWarning"
])

/**
 * Codes about the replicas rather than the analyzed instance: when every replica is downtimed the entry
 * is "as good as downtimed" (orchestrator's appendAnalysis switch, analysis_dao.go).
 */
export const replicaCentricCodes: ReadonlySet<AnalysisCode> = new Set<AnalysisCode>([
  "AllMasterReplicasNotReplicating",
  "AllMasterReplicasNotReplicatingOrDead",
  "MasterSingleReplicaDead",
  "AllCoMasterReplicasNotReplicating",
  "DeadIntermediateMasterWithSingleReplica",
  "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
  "DeadIntermediateMasterAndReplicas",
  "DeadIntermediateMasterAndSomeReplicas",
  "AllIntermediateMasterReplicasFailingToConnectOrDead",
  "AllIntermediateMasterReplicasNotReplicating"
])

/** orchestrator's `ClusterInfo` as the analysis fills it (CountInstances and HeuristicLag stay 0 there). */
export interface ClusterDetails {
  readonly clusterName: string
  readonly clusterAlias: string
  readonly clusterDomain: string
  readonly countInstances: number
  readonly heuristicLag: number
  readonly hasAutomatedMasterRecovery: boolean
  readonly hasAutomatedIntermediateMasterRecovery: boolean
}

export interface ReplicationAnalysis {
  readonly analyzedInstanceKey: InstanceKey
  /** null = no master (orchestrator writes `{"Hostname":"","Port":0}`). */
  readonly analyzedInstanceMasterKey: InstanceKey | null
  readonly clusterDetails: ClusterDetails
  readonly analyzedInstanceDataCenter: string
  readonly analyzedInstanceRegion: string
  readonly analyzedInstancePhysicalEnvironment: string
  /** The analyzed instance's own binlog position (SHOW MASTER STATUS), type binary. */
  readonly analyzedInstanceBinlogCoordinates: BinlogCoordinates
  readonly isMaster: boolean
  readonly isReplicationGroupMember: boolean
  readonly isCoMaster: boolean
  readonly lastCheckValid: boolean
  readonly lastCheckPartialSuccess: boolean
  readonly countReplicas: number
  readonly countValidReplicas: number
  readonly countValidReplicatingReplicas: number
  readonly countReplicasFailingToConnectToMaster: number
  readonly countDowntimedReplicas: number
  readonly replicationDepth: number
  /** Sorted by hostname then port (orchestrator's InstanceKeyMap marshalling order). */
  readonly replicas: ReadonlyArray<InstanceKey>
  readonly isFailingToConnectToMaster: boolean
  readonly analysis: AnalysisCode
  readonly description: string
  readonly structureAnalysis: ReadonlyArray<StructureCode>
  readonly isDowntimed: boolean
  readonly isReplicasDowntimed: boolean
  /** End of the analyzed instance's downtime, epoch ms; null without downtime. */
  readonly downtimeEndAt: number | null
  readonly downtimeRemainingSeconds: number
  readonly isBinlogServer: boolean
  readonly pseudoGtidImmediateTopology: boolean
  readonly oracleGtidImmediateTopology: boolean
  readonly mariaDbGtidImmediateTopology: boolean
  readonly binlogServerImmediateTopology: boolean
  readonly semiSyncMasterEnabled: boolean
  readonly semiSyncMasterStatus: boolean
  readonly semiSyncMasterWaitForReplicaCount: number
  readonly semiSyncMasterClients: number
  readonly countSemiSyncReplicasEnabled: number
  readonly countLoggingReplicas: number
  readonly countStatementBasedLoggingReplicas: number
  readonly countMixedBasedLoggingReplicas: number
  readonly countRowBasedLoggingReplicas: number
  readonly countDistinctMajorVersionsLoggingReplicas: number
  readonly countDelayedReplicas: number
  readonly countLaggingReplicas: number
  readonly isActionableRecovery: boolean
  readonly processingNodeHostname: string
  readonly processingNodeToken: string
  readonly countAdditionalAgreeingNodes: number
  /** Set by the recovery path (detection registration); "" from analysis. */
  readonly startActivePeriod: string
  readonly skippableDueToDowntime: boolean
  readonly gtidMode: string
  readonly minReplicaGtidMode: string
  readonly maxReplicaGtidMode: string
  readonly maxReplicaGtidErrant: string
  /** Set by forced recoveries (force-master-failover...); "" from analysis. */
  readonly commandHint: string
  readonly isReadOnly: boolean
}

/** orchestrator's `AnalysisString()`: the code (unless NoProblem) and the structure warnings, comma-joined. */
export const analysisString = (a: ReplicationAnalysis): string =>
  [...(a.analysis === "NoProblem" ? [] : [a.analysis]), ...a.structureAnalysis].join(", ")

/** orchestrator's `GetAnalysisInstanceType()`: co-master, group-member, master or intermediate-master. */
export const analysisInstanceType = (
  a: Pick<ReplicationAnalysis, "isCoMaster" | "isReplicationGroupMember" | "isMaster">
): "co-master" | "group-member" | "master" | "intermediate-master" =>
  a.isCoMaster ? "co-master" : a.isReplicationGroupMember ? "group-member" : a.isMaster ? "master" : "intermediate-master"
