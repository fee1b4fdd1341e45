/**
 * orchestrator's `ReplicationAnalysis` JSON (go/inst/analysis.go; spec orchestrator-compat §2.13): the
 * exact keys, in the struct's field order (Go's encoding/json writes fields in declaration order).
 *
 * Go facts reproduced:
 * - `AnalyzedInstanceMasterKey` of a master is `{"Hostname":"","Port":0}`;
 * - `Replicas` and its backwards-compatible twin `SlaveHosts` are InstanceKeyMaps, marshalled as a sorted
 *   array (never null);
 * - `StructureAnalysis` is a nil slice when empty, so `null`;
 * - `AnalyzedInstanceBinlogCoordinates.Type` is 0 (BinaryLog);
 * - `DowntimeEndTimestamp` is the backend's text of `end_timestamp`, "" without downtime;
 * - `ClusterDetails` is a `ClusterInfo` with `CountInstances` and `HeuristicLag` left 0.
 *
 * `ReplicationAnalysisJson` is also a Schema, so the SDK can decode what a node (or orchestrator) sends.
 */
import { Schema } from "effect"
import { formatTimestamp, type TimestampFormat } from "../topology/InstanceJson.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import type { ReplicationAnalysis } from "./ReplicationAnalysis.js"

export const KeyJson = Schema.Struct({ Hostname: Schema.String, Port: Schema.Number })
export type KeyJson = typeof KeyJson.Type

export const ClusterInfoJson = Schema.Struct({
  ClusterName: Schema.String,
  ClusterAlias: Schema.String,
  ClusterDomain: Schema.String,
  CountInstances: Schema.Number,
  HeuristicLag: Schema.Number,
  HasAutomatedMasterRecovery: Schema.Boolean,
  HasAutomatedIntermediateMasterRecovery: Schema.Boolean
})
export type ClusterInfoJson = typeof ClusterInfoJson.Type

export const CoordinatesJson = Schema.Struct({ LogFile: Schema.String, LogPos: Schema.Number, Type: Schema.Number })

const N = Schema.Number
const B = Schema.Boolean
const Str = Schema.String

export const ReplicationAnalysisJson = Schema.Struct({
  AnalyzedInstanceKey: KeyJson,
  AnalyzedInstanceMasterKey: KeyJson,
  ClusterDetails: ClusterInfoJson,
  AnalyzedInstanceDataCenter: Str,
  AnalyzedInstanceRegion: Str,
  AnalyzedInstancePhysicalEnvironment: Str,
  AnalyzedInstanceBinlogCoordinates: CoordinatesJson,
  IsMaster: B,
  IsReplicationGroupMember: B,
  IsCoMaster: B,
  LastCheckValid: B,
  LastCheckPartialSuccess: B,
  CountReplicas: N,
  CountValidReplicas: N,
  CountValidReplicatingReplicas: N,
  CountReplicasFailingToConnectToMaster: N,
  CountDowntimedReplicas: N,
  ReplicationDepth: N,
  Replicas: Schema.Array(KeyJson),
  SlaveHosts: Schema.Array(KeyJson),
  IsFailingToConnectToMaster: B,
  Analysis: Str,
  Description: Str,
  StructureAnalysis: Schema.NullOr(Schema.Array(Str)),
  IsDowntimed: B,
  IsReplicasDowntimed: B,
  DowntimeEndTimestamp: Str,
  DowntimeRemainingSeconds: N,
  IsBinlogServer: B,
  PseudoGTIDImmediateTopology: B,
  OracleGTIDImmediateTopology: B,
  MariaDBGTIDImmediateTopology: B,
  BinlogServerImmediateTopology: B,
  SemiSyncMasterEnabled: B,
  SemiSyncMasterStatus: B,
  SemiSyncMasterWaitForReplicaCount: N,
  SemiSyncMasterClients: N,
  CountSemiSyncReplicasEnabled: N,
  CountLoggingReplicas: N,
  CountStatementBasedLoggingReplicas: N,
  CountMixedBasedLoggingReplicas: N,
  CountRowBasedLoggingReplicas: N,
  CountDistinctMajorVersionsLoggingReplicas: N,
  CountDelayedReplicas: N,
  CountLaggingReplicas: N,
  IsActionableRecovery: B,
  ProcessingNodeHostname: Str,
  ProcessingNodeToken: Str,
  CountAdditionalAgreeingNodes: N,
  StartActivePeriod: Str,
  SkippableDueToDowntime: B,
  GTIDMode: Str,
  MinReplicaGTIDMode: Str,
  MaxReplicaGTIDMode: Str,
  MaxReplicaGTIDErrant: Str,
  CommandHint: Str,
  IsReadOnly: B
})
export type ReplicationAnalysisJson = typeof ReplicationAnalysisJson.Type

/** The JSON keys in orchestrator's order (the schema's field order). */
export const jsonKeys: ReadonlyArray<string> = Object.keys(ReplicationAnalysisJson.fields)

export const keyJson = (k: InstanceKey | null): KeyJson =>
  k === null ? { Hostname: "", Port: 0 } : { Hostname: k.hostname, Port: k.port }

export interface EncodeOptions {
  /** How the backend renders timestamps (MySQL: `2006-01-02 15:04:05`; SQLite: RFC 3339). Default "sql". */
  readonly timestampFormat?: TimestampFormat
}

const clusterJson = (a: ReplicationAnalysis): ClusterInfoJson => ({
  ClusterName: a.clusterDetails.clusterName,
  ClusterAlias: a.clusterDetails.clusterAlias,
  ClusterDomain: a.clusterDetails.clusterDomain,
  CountInstances: a.clusterDetails.countInstances,
  HeuristicLag: a.clusterDetails.heuristicLag,
  HasAutomatedMasterRecovery: a.clusterDetails.hasAutomatedMasterRecovery,
  HasAutomatedIntermediateMasterRecovery: a.clusterDetails.hasAutomatedIntermediateMasterRecovery
})

/** Identity facts and counters (the first half of the struct). */
const head = (a: ReplicationAnalysis) => ({
  AnalyzedInstanceKey: keyJson(a.analyzedInstanceKey),
  AnalyzedInstanceMasterKey: keyJson(a.analyzedInstanceMasterKey),
  ClusterDetails: clusterJson(a),
  AnalyzedInstanceDataCenter: a.analyzedInstanceDataCenter,
  AnalyzedInstanceRegion: a.analyzedInstanceRegion,
  AnalyzedInstancePhysicalEnvironment: a.analyzedInstancePhysicalEnvironment,
  AnalyzedInstanceBinlogCoordinates: {
    LogFile: a.analyzedInstanceBinlogCoordinates.logFile,
    LogPos: a.analyzedInstanceBinlogCoordinates.logPos,
    Type: 0
  },
  IsMaster: a.isMaster,
  IsReplicationGroupMember: a.isReplicationGroupMember,
  IsCoMaster: a.isCoMaster,
  LastCheckValid: a.lastCheckValid,
  LastCheckPartialSuccess: a.lastCheckPartialSuccess,
  CountReplicas: a.countReplicas,
  CountValidReplicas: a.countValidReplicas,
  CountValidReplicatingReplicas: a.countValidReplicatingReplicas,
  CountReplicasFailingToConnectToMaster: a.countReplicasFailingToConnectToMaster,
  CountDowntimedReplicas: a.countDowntimedReplicas,
  ReplicationDepth: a.replicationDepth,
  Replicas: a.replicas.map(keyJson),
  SlaveHosts: a.replicas.map(keyJson),
  IsFailingToConnectToMaster: a.isFailingToConnectToMaster,
  Analysis: a.analysis,
  Description: a.description,
  StructureAnalysis: a.structureAnalysis.length === 0 ? null : [...a.structureAnalysis]
})

export const encode = (a: ReplicationAnalysis, options: EncodeOptions = {}): ReplicationAnalysisJson => ({
  ...head(a),
  IsDowntimed: a.isDowntimed,
  IsReplicasDowntimed: a.isReplicasDowntimed,
  DowntimeEndTimestamp: formatTimestamp(a.downtimeEndAt, options.timestampFormat ?? "sql"),
  DowntimeRemainingSeconds: a.downtimeRemainingSeconds,
  IsBinlogServer: a.isBinlogServer,
  PseudoGTIDImmediateTopology: a.pseudoGtidImmediateTopology,
  OracleGTIDImmediateTopology: a.oracleGtidImmediateTopology,
  MariaDBGTIDImmediateTopology: a.mariaDbGtidImmediateTopology,
  BinlogServerImmediateTopology: a.binlogServerImmediateTopology,
  SemiSyncMasterEnabled: a.semiSyncMasterEnabled,
  SemiSyncMasterStatus: a.semiSyncMasterStatus,
  SemiSyncMasterWaitForReplicaCount: a.semiSyncMasterWaitForReplicaCount,
  SemiSyncMasterClients: a.semiSyncMasterClients,
  CountSemiSyncReplicasEnabled: a.countSemiSyncReplicasEnabled,
  CountLoggingReplicas: a.countLoggingReplicas,
  CountStatementBasedLoggingReplicas: a.countStatementBasedLoggingReplicas,
  CountMixedBasedLoggingReplicas: a.countMixedBasedLoggingReplicas,
  CountRowBasedLoggingReplicas: a.countRowBasedLoggingReplicas,
  CountDistinctMajorVersionsLoggingReplicas: a.countDistinctMajorVersionsLoggingReplicas,
  CountDelayedReplicas: a.countDelayedReplicas,
  CountLaggingReplicas: a.countLaggingReplicas,
  IsActionableRecovery: a.isActionableRecovery,
  ProcessingNodeHostname: a.processingNodeHostname,
  ProcessingNodeToken: a.processingNodeToken,
  CountAdditionalAgreeingNodes: a.countAdditionalAgreeingNodes,
  StartActivePeriod: a.startActivePeriod,
  SkippableDueToDowntime: a.skippableDueToDowntime,
  GTIDMode: a.gtidMode,
  MinReplicaGTIDMode: a.minReplicaGtidMode,
  MaxReplicaGTIDMode: a.maxReplicaGtidMode,
  MaxReplicaGTIDErrant: a.maxReplicaGtidErrant,
  CommandHint: a.commandHint,
  IsReadOnly: a.isReadOnly
})
