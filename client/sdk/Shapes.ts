/**
 * The JSON shapes the SDK's typed helpers decode (spec §2.13, orchestrator's Go field names).
 * Only the fields clients read are declared; the SDK decodes with `onExcessProperty: "preserve"`,
 * so every other field of orchestrator's JSON is still on the value.
 */
import { Schema } from "effect"

export const InstanceKeyJson = Schema.Struct({ Hostname: Schema.String, Port: Schema.Number })
export type InstanceKeyJson = typeof InstanceKeyJson.Type

export const Instance = Schema.Struct({
  Key: InstanceKeyJson,
  MasterKey: InstanceKeyJson,
  ClusterName: Schema.String,
  DataCenter: Schema.optional(Schema.String),
  ReadOnly: Schema.optional(Schema.Boolean),
  ReplicationSQLThreadRuning: Schema.optional(Schema.Boolean),
  ReplicationIOThreadRuning: Schema.optional(Schema.Boolean),
  ReplicationSQLThreadState: Schema.optional(Schema.Number),
  ReplicationIOThreadState: Schema.optional(Schema.Number),
  LastSQLError: Schema.optional(Schema.String),
  LastIOError: Schema.optional(Schema.String),
  GtidErrant: Schema.optional(Schema.String),
  IsDowntimed: Schema.optional(Schema.Boolean)
})
export type Instance = typeof Instance.Type

/** Go serialises an empty slice as `null` on some routes (`/api/clusters` on an empty backend). */
export const ListOf = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.transform(Schema.NullOr(Schema.Array(item)), Schema.typeSchema(Schema.Array(item)), {
    strict: true,
    decode: (xs) => xs ?? [],
    encode: (xs) => xs
  })

export const ClusterInfo = Schema.Struct({
  ClusterName: Schema.String,
  ClusterAlias: Schema.String,
  ClusterDomain: Schema.optional(Schema.String),
  CountInstances: Schema.optional(Schema.Number),
  HeuristicLag: Schema.optional(Schema.Number),
  HasAutomatedMasterRecovery: Schema.optional(Schema.Boolean),
  HasAutomatedIntermediateMasterRecovery: Schema.optional(Schema.Boolean)
})
export type ClusterInfo = typeof ClusterInfo.Type

export const ReplicationAnalysis = Schema.Struct({
  AnalyzedInstanceKey: InstanceKeyJson,
  ClusterDetails: Schema.Struct({ ClusterName: Schema.String, ClusterAlias: Schema.optional(Schema.String) }),
  Analysis: Schema.String,
  StructureAnalysis: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  IsDowntimed: Schema.optional(Schema.Boolean)
})
export type ReplicationAnalysis = typeof ReplicationAnalysis.Type

export const TopologyRecovery = Schema.Struct({
  Id: Schema.optional(Schema.Number),
  UID: Schema.optional(Schema.String),
  SuccessorKey: Schema.NullOr(InstanceKeyJson),
  IsSuccessful: Schema.optional(Schema.Boolean)
})
export type TopologyRecovery = typeof TopologyRecovery.Type

export const KVPair = Schema.Struct({ Key: Schema.String, Value: Schema.String })
export type KVPair = typeof KVPair.Type

/** The OK envelope as the SDK returns it (an ERROR envelope is an `ApiError`). */
export interface Envelope<A> {
  readonly Code: "OK"
  readonly Message: string
  readonly Details: A
}
