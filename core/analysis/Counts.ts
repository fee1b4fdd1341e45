/**
 * The per-instance facts of orchestrator's analysis query (go/inst/analysis_dao.go, the SELECT list of
 * `GetReplicationAnalysis`), computed from the snapshot: what the analyzed instance's own probe says, and
 * what its replicas report. Each field's comment gives the SQL expression it replaces.
 *
 * Two validity notions, as in orchestrator:
 * - the analyzed instance: `last_checked <= last_seen AND last_attempted_check <= last_seen +
 *   (InstancePollSeconds + ReasonableInstanceCheckSeconds)` — a hung probe invalidates it too;
 * - a replica: only `last_checked <= last_seen`.
 */
import * as Model from "../topology/Instance.js"
import type { Instance } from "../topology/Instance.js"
import * as Key from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import type { Snapshot } from "./Snapshot.js"
import * as S from "./Snapshot.js"
import * as Stale from "./StaleCoordinates.js"

export interface Counts {
  readonly isMaster: boolean
  readonly isReplicationGroupMember: boolean
  /** `is_co_master OR SUM(replica.is_co_master) > 0`. */
  readonly isCoMaster: boolean
  /** `hostname:port = cluster_name` (only orders the output). */
  readonly isClusterMaster: boolean
  readonly lastCheckValid: boolean
  readonly lastCheckPartialSuccess: boolean
  readonly isFailingToConnectToMaster: boolean
  readonly isBinlogServer: boolean
  readonly isStaleBinlogCoordinates: boolean
  readonly replicas: ReadonlyArray<InstanceKey>
  readonly countReplicas: number
  readonly countValidReplicas: number
  readonly countValidReplicatingReplicas: number
  readonly countReplicasFailingToConnectToMaster: number
  readonly countDowntimedReplicas: number
  readonly countValidOracleGtidReplicas: number
  readonly countValidMariaDbGtidReplicas: number
  readonly countValidBinlogServerReplicas: number
  readonly countSemiSyncReplicasEnabled: number
  readonly countLoggingReplicas: number
  readonly countStatementBasedLoggingReplicas: number
  readonly countMixedBasedLoggingReplicas: number
  readonly countRowBasedLoggingReplicas: number
  readonly countDistinctMajorVersionsLoggingReplicas: number
  readonly countDelayedReplicas: number
  readonly countLaggingReplicas: number
  readonly minReplicaGtidMode: string
  readonly maxReplicaGtidMode: string
  readonly maxReplicaGtidErrant: string
}

/** `master_host IN ('', '_') OR master_port = 0 OR master_host LIKE '//%'`. */
const hasNoMaster = (i: Instance): boolean => {
  const m = Model.masterKey(i)
  return m === null || m.hostname === "" || m.hostname === "_" || m.port === 0 || Key.isDetached(m)
}

/**
 * orchestrator's `is_master` column: no (valid) master host, and not a group-replication secondary.
 * Note: this is the analysis' definition, looser than `Instance.isMaster` (which also wants a read binlog
 * file or GTID before calling a server a replica).
 */
export const isAnalysisMaster = (i: Instance): boolean =>
  hasNoMaster(i) && (i.group === null || i.group.name === "" || i.group.memberRole === "PRIMARY")

/** `replication_group_name != '' AND replication_group_member_state != 'OFFLINE'`. */
export const isGroupMember = (i: Instance): boolean =>
  i.group !== null && i.group.name !== "" && i.group.memberState !== "OFFLINE"

/** A replica's validity: `last_checked <= last_seen` (NULL compares false). */
export const replicaCheckValid = (i: Instance): boolean =>
  i.lastCheckedAt !== null && i.lastSeenAt !== null && i.lastCheckedAt <= i.lastSeenAt

/**
 * The analyzed instance's validity. A NULL `last_attempted_check` passes: orchestrator's column is NOT
 * NULL with a 1971 default, which always satisfies the bound.
 *
 * The slack is the instance's own poll interval + ReasonableInstanceCheckSeconds. Orchestrator uses
 * InstancePollSeconds for every instance; a master with replicas is probed every `masterPollSeconds` here
 * (discovery marks last_attempted_check every second while a probe hangs), so a hung master leaves the valid
 * window 2–3 s after it stopped answering instead of 6–7 s. Invalid alone is only UnreachableMaster; a failover
 * still needs the replicas to agree that they lost it.
 */
export const lastCheckValid = (i: Instance, policy: S.AnalysisPolicy): boolean => {
  if (!replicaCheckValid(i) || i.lastSeenAt === null) return false
  const pollSeconds = isAnalysisMaster(i) && i.replicas.length > 0 ? policy.masterPollSeconds : policy.instancePollSeconds
  const slackMs = (pollSeconds + policy.reasonableInstanceCheckSeconds) * 1000
  return i.lastAttemptedCheckAt === null || i.lastAttemptedCheckAt <= i.lastSeenAt + slackMs
}

/** orchestrator's `IsBinlogServer()`: MaxScale. */
export const isBinlogServer = (i: Instance): boolean => i.flavor === "MaxScale" || i.version.includes("maxscale")

/** `slave_io_running != 0 AND slave_sql_running != 0` (the columns store "thread is running"). */
const isReplicating = (i: Instance): boolean =>
  Model.ioThreadState(i) === "running" && Model.sqlThreadState(i) === "running"

const isLogging = (i: Instance): boolean => i.logBinEnabled && i.logReplicationUpdatesEnabled

const maxString = (values: ReadonlyArray<string>): string => values.reduce((m, v) => (v > m ? v : m), "")
const minString = (values: ReadonlyArray<string>): string =>
  values.length === 0 ? "" : values.reduce((m, v) => (v < m ? v : m))

const countWhere = (list: ReadonlyArray<Instance>, p: (i: Instance) => boolean): number =>
  list.reduce((n, i) => (p(i) ? n + 1 : n), 0)

/** Replica-side aggregates (the SUM/COUNT/MIN/MAX over `replica_instance`). */
const replicaCounts = (s: Snapshot, replicas: ReadonlyArray<Instance>) => {
  const valid = (p: (i: Instance) => boolean) => countWhere(replicas, (r) => replicaCheckValid(r) && p(r))
  const logging = replicas.filter(isLogging)
  const downtimed = (r: Instance) => S.isDowntimed(s, r.key)
  return {
    countReplicas: replicas.length,
    countValidReplicas: valid(() => true),
    countValidReplicatingReplicas: valid(isReplicating),
    countReplicasFailingToConnectToMaster: valid(Model.isFailingToConnectToMaster),
    countDowntimedReplicas: countWhere(replicas, downtimed),
    countValidOracleGtidReplicas: valid(Model.usingOracleGtid),
    countValidMariaDbGtidReplicas: valid(Model.usingMariaDbGtid),
    countValidBinlogServerReplicas: valid(isBinlogServer),
    countSemiSyncReplicasEnabled: countWhere(replicas, (r) => r.semiSync.replicaEnabled),
    countLoggingReplicas: logging.length,
    countStatementBasedLoggingReplicas: countWhere(logging, (r) => r.binlogFormat === "STATEMENT"),
    countMixedBasedLoggingReplicas: countWhere(logging, (r) => r.binlogFormat === "MIXED"),
    countRowBasedLoggingReplicas: countWhere(logging, (r) => r.binlogFormat === "ROW"),
    countDistinctMajorVersionsLoggingReplicas: new Set(logging.map(Model.majorVersionString)).size,
    countDelayedReplicas: countWhere(replicas, (r) => Model.sqlDelay(r) > 0),
    // `slave_lag_seconds > ReasonableReplicationLagSeconds`; an unknown (NULL) lag is not lagging.
    countLaggingReplicas: countWhere(replicas, (r) => {
      const lag = Model.lagSeconds(r)
      return lag !== null && lag > s.policy.reasonableReplicationLagSeconds
    }),
    minReplicaGtidMode: minString(replicas.map((r) => r.gtidMode)),
    maxReplicaGtidMode: maxString(replicas.map((r) => r.gtidMode)),
    // A downtimed replica's errant GTIDs do not count (`case when replica downtimed then ''`).
    maxReplicaGtidErrant: maxString(replicas.map((r) => (downtimed(r) ? "" : r.gtidErrant)))
  }
}

/** All facts about one analyzed instance. */
export const countsOf = (s: Snapshot, i: Instance): Counts => {
  const replicas = S.replicasOf(s, i.key)
  const rc = replicaCounts(s, replicas)
  return {
    ...rc,
    isMaster: isAnalysisMaster(i),
    isReplicationGroupMember: isGroupMember(i),
    isCoMaster: i.isCoMaster || replicas.some((r) => r.isCoMaster),
    isClusterMaster: Key.format(i.key) === i.clusterName,
    lastCheckValid: lastCheckValid(i, s.policy),
    lastCheckPartialSuccess: i.lastCheckPartialSuccess,
    isFailingToConnectToMaster: Model.isFailingToConnectToMaster(i),
    isBinlogServer: isBinlogServer(i),
    isStaleBinlogCoordinates: Stale.isStale(
      s.staleCoordinates,
      i.key,
      i.selfBinlogCoordinates,
      s.now,
      s.policy.reasonableLockedSemiSyncMasterSeconds
    ),
    replicas: Key.sortedUnique(replicas.map((r) => r.key))
  }
}

/**
 * `ReduceReplicationAnalysisCount`'s HAVING clause: keep an instance only if its check is invalid, some
 * replica is failing to connect / invalid / not replicating, it is failing to connect itself, or it has
 * replicas at all. (The replica conditions all imply `countReplicas > 0`; they are kept to mirror the
 * source.) Effect: a valid leaf, e.g. a standalone read_only master, yields no entry.
 */
export const isInteresting = (c: Counts): boolean =>
  !c.lastCheckValid ||
  c.countReplicasFailingToConnectToMaster > 0 ||
  c.countValidReplicas < c.countReplicas ||
  c.countValidReplicatingReplicas < c.countReplicas ||
  c.isFailingToConnectToMaster ||
  c.countReplicas > 0
