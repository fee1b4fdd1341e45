/**
 * The replicated command log's vocabulary: every decision the cluster shares goes through raft
 * as one of these ops, and is applied by every node to its own backend in log order.
 *
 * Unlike orchestrator (string op names, JSON bytes, side effects in apply — its `discover` op
 * probes MySQL inside apply), an op is a Schema-tagged value that carries everything apply needs,
 * timestamps included: apply is a deterministic function of (backend, op), so every node reaches
 * the same replicated tables. What a node should *do* locally after applying (probe an instance,
 * yield leadership) is returned as a reaction, run outside the backend transaction.
 *
 * The wire names (`_tag`) are orchestrator's op names, so logs read the same.
 */
import { Schema } from "effect"

export const Key = Schema.Struct({
  hostname: Schema.String.pipe(Schema.minLength(1)),
  port: Schema.Int.pipe(Schema.between(1, 65535))
})
export type Key = typeof Key.Type

const Millis = Schema.Int.pipe(Schema.nonNegative())

export const PromotionRule = Schema.Literal("must", "prefer", "neutral", "prefer_not", "must_not")

const op = <Tag extends string, Fields extends Schema.Struct.Fields>(tag: Tag, fields: Fields) =>
  Schema.TaggedStruct(tag, fields)

export const Discover = op("discover", { key: Key })
export const Forget = op("forget", { key: Key })
export const ForgetCluster = op("forget-cluster", { clusterName: Schema.String })
export const BeginDowntime = op("begin-downtime", {
  key: Key,
  owner: Schema.String,
  reason: Schema.String,
  beginTimestamp: Millis,
  endTimestamp: Millis
})
export const EndDowntime = op("end-downtime", { key: Key })
/** Ours: orchestrator keeps maintenance on the leader only. */
export const BeginMaintenance = op("begin-maintenance", {
  key: Key,
  owner: Schema.String,
  reason: Schema.String,
  beginTimestamp: Millis,
  endTimestamp: Millis,
  processingNodeHostname: Schema.String,
  processingNodeToken: Schema.String,
  explicitlyBounded: Schema.Boolean
})
export const EndMaintenance = op("end-maintenance", {
  key: Schema.NullOr(Key),
  maintenanceId: Schema.NullOr(Schema.Int)
})
export const RegisterCandidate = op("register-candidate", {
  key: Key,
  promotionRule: PromotionRule,
  lastSuggested: Millis,
  priority: Schema.Int
})
export const AckRecovery = op("ack-recovery", {
  filter: Schema.Union(
    Schema.TaggedStruct("All", {}),
    Schema.TaggedStruct("Cluster", { clusterName: Schema.String }),
    Schema.TaggedStruct("Instance", { key: Key }),
    Schema.TaggedStruct("Id", { id: Schema.Int }),
    Schema.TaggedStruct("Uid", { uid: Schema.String })
  ),
  by: Schema.String,
  comment: Schema.String,
  at: Millis
})
export const RegisterHostnameUnresolve = op("register-hostname-unresolve", {
  hostname: Schema.String,
  unresolvedHostname: Schema.String,
  at: Millis
})
export const DeregisterHostnameUnresolve = op("deregister-hostname-unresolve", { hostname: Schema.String })
export const SubmitPoolInstances = op("submit-pool-instances", {
  pool: Schema.String,
  keys: Schema.Array(Key),
  at: Millis
})
export const PutKeyValue = op("put-key-value", { key: Schema.String, value: Schema.String, at: Millis })
export const PutInstanceTag = op("put-instance-tag", { key: Key, tagName: Schema.String, tagValue: Schema.String })
/** Ours: orchestrator never publishes its delete op (untag is leader-local there). */
export const DeleteInstanceTag = op("delete-instance-tag", { key: Key, tagName: Schema.NullOr(Schema.String) })
export const SetClusterAliasManualOverride = op("set-cluster-alias-manual-override", {
  clusterName: Schema.String,
  alias: Schema.String
})
export const DisableGlobalRecoveries = op("disable-global-recoveries", {})
export const EnableGlobalRecoveries = op("enable-global-recoveries", {})
/** A new leader announces its HTTP URI (orchestrator's leader-uri), with its raft address so followers can map one to the other. */
export const LeaderUri = op("leader-uri", { uri: Schema.String, raftAddress: Schema.String })
/** Every node except `raftAddress` steps back from leadership for a while (orchestrator's yield). */
export const Yield = op("yield", { raftAddress: Schema.String })
/** Every node whose hostname does not contain `hint` steps back (orchestrator's yield-hint). */
export const YieldHint = op("yield-hint", { hint: Schema.String })
export const Heartbeat = op("heartbeat", {})
/** Detection and recovery records, written by the leader's recovery flow (core/backend/Repository shapes). */
export const FailureDetectionRecord = Schema.Struct({
  key: Key,
  analysis: Schema.String,
  clusterName: Schema.String,
  clusterAlias: Schema.String,
  isActionable: Schema.Boolean,
  inActivePeriod: Schema.Boolean,
  startActivePeriod: Millis,
  endActivePeriodUnixtime: Millis,
  processingNodeHostname: Schema.String,
  processingNodeToken: Schema.String,
  countAffectedReplicas: Schema.Int,
  replicaHosts: Schema.String,
  analysisEntry: Schema.String
})
export const RecoveryRecord = Schema.Struct({
  uid: Schema.String,
  key: Key,
  analysis: Schema.String,
  clusterName: Schema.String,
  clusterAlias: Schema.String,
  recoveryType: Schema.String,
  inActivePeriod: Schema.Boolean,
  startActivePeriod: Millis,
  endActivePeriodUnixtime: Millis,
  processingNodeHostname: Schema.String,
  processingNodeToken: Schema.String,
  successorKey: Schema.NullOr(Key),
  successorAlias: Schema.String,
  isSuccessful: Schema.Boolean,
  lostReplicas: Schema.String,
  participatingInstances: Schema.String,
  allErrors: Schema.String,
  lastDetectionId: Schema.Int,
  relatedRecoveryId: Schema.Int,
  analysisEntry: Schema.String
})
export const RecoveryResult = Schema.Struct({
  isSuccessful: Schema.Boolean,
  successorKey: Schema.NullOr(Key),
  successorAlias: Schema.String,
  lostReplicas: Schema.String,
  participatingInstances: Schema.String,
  allErrors: Schema.String,
  endRecovery: Millis
})
export const RegisterFailureDetection = op("register-failure-detection", { record: FailureDetectionRecord })
export const WriteRecovery = op("write-recovery", { record: RecoveryRecord })
export const WriteRecoveryStep = op("write-recovery-step", { recoveryUid: Schema.String, auditAt: Millis, message: Schema.String })
export const ResolveRecovery = op("resolve-recovery", { uid: Schema.String, result: RecoveryResult })

export const Op = Schema.Union(
  Discover,
  Forget,
  ForgetCluster,
  BeginDowntime,
  EndDowntime,
  BeginMaintenance,
  EndMaintenance,
  RegisterCandidate,
  AckRecovery,
  RegisterHostnameUnresolve,
  DeregisterHostnameUnresolve,
  SubmitPoolInstances,
  PutKeyValue,
  PutInstanceTag,
  DeleteInstanceTag,
  SetClusterAliasManualOverride,
  DisableGlobalRecoveries,
  EnableGlobalRecoveries,
  LeaderUri,
  Yield,
  YieldHint,
  Heartbeat,
  RegisterFailureDetection,
  WriteRecovery,
  WriteRecoveryStep,
  ResolveRecovery
)
export type Op = typeof Op.Type
export type OpTag = Op["_tag"]

/** The log entry payload: JSON text of an op. */
export const OpJson = Schema.parseJson(Op)
export const encodeOp = Schema.encodeSync(OpJson)
export const decodeOp = Schema.decodeUnknownEither(OpJson)
