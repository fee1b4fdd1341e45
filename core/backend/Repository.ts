/**
 * The node's own store, as a domain port: every other module reads and writes backend data only
 * through this Tag. Two implementations exist in `adapters/backend` (SQLite and MySQL, one SQL
 * implementation over `@effect/sql` with dialect differences kept to DDL and upserts); tests use a
 * SQLite file or an in-memory SQLite database, which is the real implementation, not a mock.
 *
 * Who owns what (see docs/architecture.md): probe results and node health are local to a node;
 * downtime, maintenance, candidates, tags, pools, aliases, KV, detection/recovery records and the
 * global recovery switch are written only by the replicated-op applier in raft mode.
 *
 * Times are epoch milliseconds everywhere in this interface and in the tables.
 */
import { Context, Data, Effect } from "effect"

/** Structural instance key; `core/topology` InstanceKey values fit it. */
export interface HostPort {
  readonly hostname: string
  readonly port: number
}

export class RepositoryError extends Data.TaggedError("RepositoryError")<{
  readonly operation: string
  readonly cause: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `backend ${this.operation} failed: ${detail}`
  }
}

export interface NodeHealth {
  readonly hostname: string
  readonly token: string
  readonly lastSeenActive: number
  readonly firstSeenActive: number
  readonly extraInfo: string
  readonly command: string
  readonly appVersion: string
  readonly dbBackend: string
  readonly incrementingIndicator: number
}

/** One probed server. `data` is the JSON of the full probe snapshot (core/topology owns its shape). */
export interface InstanceRecord {
  readonly key: HostPort
  readonly lastChecked: number | null
  readonly lastAttemptedCheck: number | null
  readonly lastSeen: number | null
  readonly lastCheckPartialSuccess: boolean
  readonly clusterName: string
  readonly masterKey: HostPort | null
  readonly data: string
}

export interface Downtime {
  readonly key: HostPort
  readonly owner: string
  readonly reason: string
  readonly beginTimestamp: number
  readonly endTimestamp: number
}

export interface Maintenance {
  readonly id: number
  readonly key: HostPort
  readonly owner: string
  readonly reason: string
  readonly beginTimestamp: number
  readonly endTimestamp: number
  readonly processingNodeHostname: string
  readonly processingNodeToken: string
  readonly explicitlyBounded: boolean
}

export type PromotionRule = "must" | "prefer" | "neutral" | "prefer_not" | "must_not"

export interface Candidate {
  readonly key: HostPort
  readonly promotionRule: PromotionRule
  readonly lastSuggested: number
  readonly priority: number
}

export interface InstanceTag {
  readonly key: HostPort
  readonly tagName: string
  readonly tagValue: string
}

export interface KVPair {
  readonly key: string
  readonly value: string
}

export interface ClusterAlias {
  readonly clusterName: string
  readonly alias: string
  /** True when the alias comes from a manual override (set-cluster-alias). */
  readonly manual: boolean
}

export interface FailureDetection {
  readonly id: number
  readonly key: HostPort
  readonly analysis: string
  readonly clusterName: string
  readonly clusterAlias: string
  readonly isActionable: boolean
  readonly inActivePeriod: boolean
  readonly startActivePeriod: number
  readonly endActivePeriodUnixtime: number
  readonly processingNodeHostname: string
  readonly processingNodeToken: string
  readonly countAffectedReplicas: number
  readonly replicaHosts: string
  /** JSON of the ReplicationAnalysis that was detected. */
  readonly analysisEntry: string
}

export interface Recovery {
  readonly id: number
  readonly uid: string
  readonly key: HostPort
  readonly analysis: string
  readonly clusterName: string
  readonly clusterAlias: string
  readonly recoveryType: string
  readonly inActivePeriod: boolean
  readonly startActivePeriod: number
  readonly endActivePeriodUnixtime: number
  readonly endRecovery: number | null
  readonly processingNodeHostname: string
  readonly processingNodeToken: string
  readonly successorKey: HostPort | null
  readonly successorAlias: string
  readonly isSuccessful: boolean
  readonly lostReplicas: string
  readonly participatingInstances: string
  readonly allErrors: string
  readonly acknowledged: boolean
  readonly acknowledgedAt: number | null
  readonly acknowledgedBy: string
  readonly acknowledgedComment: string
  readonly lastDetectionId: number
  readonly relatedRecoveryId: number
  readonly analysisEntry: string
}

export interface RecoveryStep {
  readonly id: number
  readonly recoveryUid: string
  readonly auditAt: number
  readonly message: string
}

export type NewFailureDetection = Omit<FailureDetection, "id">
export type NewRecovery = Omit<
  Recovery,
  "id" | "endRecovery" | "acknowledged" | "acknowledgedAt" | "acknowledgedBy" | "acknowledgedComment"
>

/**
 * In raft mode rows created by replicated ops take the op's log index as their id, so every node
 * assigns the same ids whatever its auto-increment history; without raft the backend assigns them.
 */
export interface ExplicitId {
  readonly id?: number | undefined
}

/** Table dumps in orchestrator's NamedResultData shape: column names and rows of values. */
export interface TableDump {
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string | number | null>>
}
export type ReplicatedDump = Readonly<Record<string, TableDump>>

/** The tables whose content raft replicates (design.md "who owns which data"). */
export const replicatedTables = [
  "database_instance_downtime",
  "database_instance_maintenance",
  "candidate_database_instance",
  "database_instance_tags",
  "database_instance_pool",
  "hostname_unresolve",
  "kv_store",
  "cluster_alias_override",
  "global_recovery_disable",
  "topology_failure_detection",
  "topology_recovery",
  "topology_recovery_steps"
] as const

type R<A> = Effect.Effect<A, RepositoryError>

export class Repository extends Context.Tag("orchestrator/Repository")<Repository, {
  /** "sqlite" or "mysql": shown in node health (orchestrator's db_backend). */
  readonly dialect: "sqlite" | "mysql"
  /** Cheap round trip, for readiness checks. */
  readonly ping: R<void>

  // Node health (local)
  readonly upsertNodeHealth: (row: NodeHealth) => R<void>
  readonly readNodeHealth: R<ReadonlyArray<NodeHealth>>
  readonly expireNodeHealth: (olderThan: number) => R<number>

  // Instances (local probe data)
  readonly writeInstances: (rows: ReadonlyArray<InstanceRecord>) => R<void>
  readonly readInstance: (key: HostPort) => R<InstanceRecord | undefined>
  readonly readInstances: R<ReadonlyArray<InstanceRecord>>
  readonly readClusterInstances: (clusterName: string) => R<ReadonlyArray<InstanceRecord>>
  readonly markAttemptedCheck: (key: HostPort, at: number) => R<void>
  readonly markFailedCheck: (key: HostPort, at: number) => R<void>
  readonly forgetInstance: (key: HostPort) => R<boolean>
  readonly forgetCluster: (clusterName: string) => R<number>

  // Downtime (replicated)
  readonly beginDowntime: (d: Downtime) => R<void>
  readonly endDowntime: (key: HostPort) => R<boolean>
  readonly readActiveDowntimes: (now: number) => R<ReadonlyArray<Downtime>>
  readonly expireDowntimes: (now: number) => R<number>

  // Maintenance (replicated in raft mode, unlike orchestrator)
  /** Fails with `undefined` result when the instance is already under active maintenance. */
  readonly beginMaintenance: (m: Omit<Maintenance, "id"> & ExplicitId) => R<number | undefined>
  readonly endMaintenance: (key: HostPort) => R<boolean>
  readonly endMaintenanceById: (id: number) => R<boolean>
  readonly readActiveMaintenance: (now: number) => R<ReadonlyArray<Maintenance>>

  // Candidates / promotion rules (replicated)
  readonly registerCandidate: (c: Candidate) => R<void>
  readonly readCandidates: (notOlderThan: number) => R<ReadonlyArray<Candidate>>

  // Tags (replicated)
  readonly putTag: (t: InstanceTag) => R<void>
  readonly deleteTag: (key: HostPort, tagName: string | undefined) => R<number>
  readonly readTags: (key: HostPort) => R<ReadonlyArray<InstanceTag>>
  readonly readTagged: (tagName: string, tagValue: string | undefined) => R<ReadonlyArray<InstanceTag>>

  // Pools (replicated)
  readonly submitPool: (pool: string, keys: ReadonlyArray<HostPort>, at: number) => R<void>
  readonly readPool: (pool: string) => R<ReadonlyArray<HostPort>>
  /** Every pool membership, by pool then host and port (cluster-pool-instances reads all pools). */
  readonly readPoolMembers: R<ReadonlyArray<{ readonly pool: string; readonly key: HostPort }>>

  // Key-value (replicated)
  readonly putKV: (pair: KVPair, at: number) => R<void>
  readonly getKV: (key: string) => R<string | undefined>
  readonly readKV: R<ReadonlyArray<KVPair>>

  // Cluster aliases (probe-detected are local; manual overrides replicated)
  readonly setClusterAlias: (clusterName: string, alias: string, at: number) => R<void>
  readonly setClusterAliasOverride: (clusterName: string, alias: string) => R<void>
  readonly readClusterAliases: R<ReadonlyArray<ClusterAlias>>

  // Hostname unresolve (replicated)
  readonly registerHostnameUnresolve: (hostname: string, unresolved: string, at: number) => R<void>
  readonly deregisterHostnameUnresolve: (hostname: string) => R<boolean>

  // Global recovery switch (replicated)
  readonly setGlobalRecoveriesDisabled: (disabled: boolean) => R<void>
  readonly isGlobalRecoveriesDisabled: R<boolean>

  // Failure detection and recovery audit (replicated)
  /** Insert-if-absent on (key, analysis actionability, active period): returns the id if new. */
  readonly registerFailureDetection: (d: NewFailureDetection & ExplicitId) => R<number | undefined>
  readonly readFailureDetections: (limit: number, offset: number) => R<ReadonlyArray<FailureDetection>>
  readonly insertRecovery: (r: NewRecovery & ExplicitId) => R<number | undefined>
  readonly resolveRecovery: (
    uid: string,
    result: {
      readonly isSuccessful: boolean
      readonly successorKey: HostPort | null
      readonly successorAlias: string
      readonly lostReplicas: string
      readonly participatingInstances: string
      readonly allErrors: string
      readonly endRecovery: number
    }
  ) => R<boolean>
  readonly readRecoveries: (limit: number, offset: number) => R<ReadonlyArray<Recovery>>
  readonly readRecoveryByUid: (uid: string) => R<Recovery | undefined>
  readonly acknowledgeRecoveries: (
    filter:
      | { readonly _tag: "All" }
      | { readonly _tag: "Cluster"; readonly clusterName: string }
      | { readonly _tag: "Instance"; readonly key: HostPort }
      | { readonly _tag: "Id"; readonly id: number }
      | { readonly _tag: "Uid"; readonly uid: string },
    ack: { readonly by: string; readonly comment: string; readonly at: number }
  ) => R<number>
  readonly writeRecoveryStep: (step: Omit<RecoveryStep, "id"> & ExplicitId) => R<void>
  readonly readRecoverySteps: (uid: string) => R<ReadonlyArray<RecoveryStep>>

  // Raft apply bookkeeping (local): the last applied log index, written in the same transaction as the op.
  readonly readAppliedIndex: R<{ readonly index: number; readonly term: number }>
  readonly writeAppliedIndex: (index: number, term: number) => R<void>
  /** Runs `effect` in one backend transaction. */
  readonly transaction: <A, E, Req>(effect: Effect.Effect<A, E, Req>) => Effect.Effect<A, E | RepositoryError, Req>

  /** The replicated tables, for a raft snapshot (deterministic order). */
  readonly dumpReplicated: R<ReplicatedDump>
  /** Replaces every replicated table with the dump's rows (call inside `transaction` to be atomic). */
  readonly restoreReplicated: (dump: ReplicatedDump) => R<void>

  // Small local metadata (leader URI and the like).
  readonly getMeta: (key: string) => R<string | undefined>
  readonly putMeta: (key: string, value: string) => R<void>
}>() {}
