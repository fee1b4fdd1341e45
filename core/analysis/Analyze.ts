/**
 * Failure analysis, pure: snapshot → one `ReplicationAnalysis` per interesting instance, judged
 * holistically — the instance's own probe (LastCheckValid) together with what its replicas report.
 *
 * Steps per instance, in orchestrator's order (go/inst/analysis_dao.go `GetReplicationAnalysis`):
 * 1. skip instances under maintenance, and those outside the requested cluster;
 * 2. with `ReduceReplicationAnalysisCount`, skip the uninteresting (the query's HAVING clause);
 * 3. facts (`Counts`), the first matching code (`Codes`), the structure warnings;
 * 4. `appendAnalysis`: drop NoProblem without structure warnings (unless asked), drop hostnames matching
 *    `RecoveryIgnoreHostnameFilters`, mark downtime, drop downtimed entries (unless asked).
 * Output order is the query's `ORDER BY is_master DESC, is_cluster_master DESC, count_replicas DESC`,
 * then host and port (the order MySQL's GROUP BY gives ties).
 */
import { Order } from "effect"
import * as Model from "../topology/Instance.js"
import type { Instance } from "../topology/Instance.js"
import * as Key from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import { classify } from "./Codes.js"
import { type Counts, countsOf, isInteresting } from "./Counts.js"
import { filtersMatchCluster, hostnameMatchesAny } from "./Filters.js"
import {
  actionableCodes,
  type ClusterDetails,
  replicaCentricCodes,
  type ReplicationAnalysis
} from "./ReplicationAnalysis.js"
import type { Snapshot } from "./Snapshot.js"
import * as S from "./Snapshot.js"
import { immediateTopology, structureWarnings } from "./StructureWarnings.js"

/** orchestrator's `ReplicationAnalysisHints`. */
export interface Hints {
  /** Keep entries skippable because of downtime (the API does; automated recovery does not need them). */
  readonly includeDowntimed?: boolean
  /** Keep NoProblem entries without structure warnings. */
  readonly includeNoProblem?: boolean
  /** Only instances of this cluster (orchestrator's `? IN ('', cluster_name)`); "" = all. */
  readonly clusterName?: string
}

export const clusterDetails = (s: Snapshot, clusterName: string): ClusterDetails => {
  const clusterAlias = s.clusterAliases.get(clusterName) ?? clusterName
  const ref = { clusterName, clusterAlias }
  return {
    clusterName,
    clusterAlias,
    clusterDomain: s.clusterDomains.get(clusterName) ?? clusterName,
    countInstances: 0,
    heuristicLag: 0,
    hasAutomatedMasterRecovery: filtersMatchCluster(s.policy.recoverMasterClusterFilters, ref),
    hasAutomatedIntermediateMasterRecovery: filtersMatchCluster(s.policy.recoverIntermediateMasterClusterFilters, ref)
  }
}

const masterKeyOf = (i: Instance): InstanceKey | null => Model.masterKey(i)

/** The entry before downtime marking and filtering. */
export const buildEntry = (s: Snapshot, i: Instance, c: Counts): ReplicationAnalysis => {
  const { code, description } = classify({ c, i, policy: s.policy })
  const t = immediateTopology(c, i)
  const downtime = S.downtimeOf(s, i.key)
  return {
    analyzedInstanceKey: i.key,
    analyzedInstanceMasterKey: masterKeyOf(i),
    clusterDetails: clusterDetails(s, i.clusterName),
    analyzedInstanceDataCenter: i.dataCenter,
    analyzedInstanceRegion: i.region,
    analyzedInstancePhysicalEnvironment: i.physicalEnvironment,
    analyzedInstanceBinlogCoordinates: { ...i.selfBinlogCoordinates, type: "binary" },
    isMaster: c.isMaster,
    isReplicationGroupMember: c.isReplicationGroupMember,
    isCoMaster: c.isCoMaster,
    lastCheckValid: c.lastCheckValid,
    lastCheckPartialSuccess: c.lastCheckPartialSuccess,
    countReplicas: c.countReplicas,
    countValidReplicas: c.countValidReplicas,
    countValidReplicatingReplicas: c.countValidReplicatingReplicas,
    countReplicasFailingToConnectToMaster: c.countReplicasFailingToConnectToMaster,
    countDowntimedReplicas: c.countDowntimedReplicas,
    replicationDepth: i.replicationDepth,
    replicas: c.replicas,
    isFailingToConnectToMaster: c.isFailingToConnectToMaster,
    analysis: code,
    description,
    structureAnalysis: structureWarnings(c, i),
    isDowntimed: false,
    isReplicasDowntimed: false,
    downtimeEndAt: downtime?.endAt ?? null,
    downtimeRemainingSeconds: remainingSeconds(s.now, downtime?.endAt ?? null),
    isBinlogServer: c.isBinlogServer,
    pseudoGtidImmediateTopology: t.pseudoGtid,
    oracleGtidImmediateTopology: t.oracleGtid,
    mariaDbGtidImmediateTopology: t.mariaDbGtid,
    binlogServerImmediateTopology: t.binlogServer,
    semiSyncMasterEnabled: i.semiSync.masterEnabled,
    semiSyncMasterStatus: i.semiSync.masterStatus,
    semiSyncMasterWaitForReplicaCount: i.semiSync.masterWaitForReplicaCount,
    semiSyncMasterClients: i.semiSync.masterClients,
    countSemiSyncReplicasEnabled: c.countSemiSyncReplicasEnabled,
    countLoggingReplicas: c.countLoggingReplicas,
    countStatementBasedLoggingReplicas: c.countStatementBasedLoggingReplicas,
    countMixedBasedLoggingReplicas: c.countMixedBasedLoggingReplicas,
    countRowBasedLoggingReplicas: c.countRowBasedLoggingReplicas,
    countDistinctMajorVersionsLoggingReplicas: c.countDistinctMajorVersionsLoggingReplicas,
    countDelayedReplicas: c.countDelayedReplicas,
    countLaggingReplicas: c.countLaggingReplicas,
    isActionableRecovery: actionableCodes.has(code),
    processingNodeHostname: s.processingNode.hostname,
    processingNodeToken: s.processingNode.token,
    countAdditionalAgreeingNodes: 0,
    startActivePeriod: "",
    skippableDueToDowntime: false,
    gtidMode: i.gtidMode,
    minReplicaGtidMode: c.minReplicaGtidMode,
    maxReplicaGtidMode: c.maxReplicaGtidMode,
    maxReplicaGtidErrant: c.maxReplicaGtidErrant,
    commandHint: "",
    isReadOnly: i.readOnly
  }
}

/**
 * Seconds until the downtime ends, 0 without one. orchestrator computes `unix_timestamp() -
 * unix_timestamp(end_timestamp)`, a negative number while downtimed; we report the remaining time the name
 * promises (docs/analysis.md lists this difference).
 */
const remainingSeconds = (now: number, endAt: number | null): number =>
  endAt === null ? 0 : Math.max(0, Math.floor(endAt / 1000) - Math.floor(now / 1000))

/**
 * orchestrator's downtime marking: a downtimed analyzed instance is skippable (automated recovery skips
 * it, manual recovery does not); and when every replica is downtimed, a replica-centric code is "as good
 * as downtimed" (`IsReplicasDowntimed`).
 */
export const markDowntime = (s: Snapshot, a: ReplicationAnalysis): ReplicationAnalysis => {
  const isDowntimed = S.isDowntimed(s, a.analyzedInstanceKey)
  const replicasDowntimed = a.countReplicas === a.countDowntimedReplicas && replicaCentricCodes.has(a.analysis)
  return {
    ...a,
    isDowntimed,
    isReplicasDowntimed: replicasDowntimed,
    skippableDueToDowntime: isDowntimed || replicasDowntimed
  }
}

/** `appendAnalysis`: whether the entry is reported. */
const isReported = (s: Snapshot, a: ReplicationAnalysis, hints: Hints): boolean => {
  if (a.analysis === "NoProblem" && a.structureAnalysis.length === 0 && hints.includeNoProblem !== true) return false
  if (hostnameMatchesAny(s.policy.recoveryIgnoreHostnameFilters, a.analyzedInstanceKey.hostname)) return false
  return !(a.skippableDueToDowntime && hints.includeDowntimed !== true)
}

interface Ranked {
  readonly entry: ReplicationAnalysis
  readonly isClusterMaster: boolean
}

const byOutputOrder: Order.Order<Ranked> = Order.combineAll([
  Order.mapInput(Order.reverse(Order.boolean), (r: Ranked) => r.entry.isMaster),
  Order.mapInput(Order.reverse(Order.boolean), (r: Ranked) => r.isClusterMaster),
  Order.mapInput(Order.reverse(Order.number), (r: Ranked) => r.entry.countReplicas),
  Order.mapInput(
    Order.make<InstanceKey>((a, b) => Math.sign(Key.compare(a, b)) as -1 | 0 | 1),
    (r: Ranked) => r.entry.analyzedInstanceKey
  )
])

/** Analyzes one instance; undefined when it is not reported. */
export const analyzeInstance = (s: Snapshot, i: Instance, hints: Hints = {}): ReplicationAnalysis | undefined => {
  const c = countsOf(s, i)
  if (s.policy.reduceReplicationAnalysisCount && !isInteresting(c)) return undefined
  const entry = markDowntime(s, buildEntry(s, i, c))
  return isReported(s, entry, hints) ? entry : undefined
}

/** The whole analysis: every reported entry, in orchestrator's output order. */
export const analyze = (s: Snapshot, hints: Hints = {}): ReadonlyArray<ReplicationAnalysis> => {
  const ranked: Array<Ranked> = []
  for (const [k, i] of s.instances) {
    if (s.underMaintenance.has(k)) continue
    if (hints.clusterName !== undefined && hints.clusterName !== "" && i.clusterName !== hints.clusterName) continue
    const entry = analyzeInstance(s, i, hints)
    if (entry !== undefined) ranked.push({ entry, isClusterMaster: k === i.clusterName })
  }
  return ranked.sort(byOutputOrder).map((r) => r.entry)
}
