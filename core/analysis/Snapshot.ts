/**
 * Everything failure analysis and candidate selection read, as one immutable value: instances (as the
 * backend holds them), downtimes, maintenance, promotion rules, cluster aliases and domains, hostname
 * resolution, the stale-coordinates history, the evaluation time, the processing node and the policy
 * values from the configuration.
 *
 * This replaces the joins of orchestrator's analysis query (go/inst/analysis_dao.go
 * `GetReplicationAnalysis`): `database_instance` master ⟕ replicas on
 * `replica.master_host = coalesce(hostname_resolve.resolved_hostname, master.hostname)` and port, ⟕
 * maintenance, downtime (master and replica), stale binlog coordinates, cluster_alias, cluster_domain_name.
 * `make` is pure; `read` fetches the rows from the Repository.
 */
import { Effect, Either } from "effect"
import type {
  Candidate,
  ClusterAlias,
  Downtime,
  Maintenance,
  PromotionRule,
  RepositoryError
} from "../backend/Repository.js"
import { Repository } from "../backend/Repository.js"
import type { OrchestratorConfig } from "../config/OrchestratorConfig.js"
import type { Instance } from "../topology/Instance.js"
import * as Key from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import { fromRecord } from "../topology/InstanceRecord.js"
import * as Stale from "./StaleCoordinates.js"

/** The configuration values analysis uses (pure functions get policy, never the global config). */
export interface AnalysisPolicy {
  readonly instancePollSeconds: number
  /**
   * How often a master with replicas is probed (ours, `MasterPollMillis`, capped by InstancePollSeconds), in
   * seconds. It replaces InstancePollSeconds in such a master's hung-probe slack (see `Counts.lastCheckValid`).
   */
  readonly masterPollSeconds: number
  readonly reasonableInstanceCheckSeconds: number
  readonly reasonableReplicationLagSeconds: number
  /** Resolved: orchestrator's 0 means "= ReasonableReplicationLagSeconds" (config.go postReadAdjustments). */
  readonly reasonableLockedSemiSyncMasterSeconds: number
  readonly reduceReplicationAnalysisCount: boolean
  readonly recoveryIgnoreHostnameFilters: ReadonlyArray<string>
  readonly recoverMasterClusterFilters: ReadonlyArray<string>
  readonly recoverIntermediateMasterClusterFilters: ReadonlyArray<string>
  readonly recoverNonWriteableMaster: boolean
  /** orchestrator `EnforceExactSemiSyncReplicas` (not yet a key of our config: false). */
  readonly enforceExactSemiSyncReplicas: boolean
}

/** The configuration values candidate selection uses. */
export interface PromotionPolicy {
  readonly promotionIgnoreHostnameFilters: ReadonlyArray<string>
  readonly preventCrossDataCenterMasterFailover: boolean
  readonly preventCrossRegionMasterFailover: boolean
  /** `CanReplicateFrom` refuses a source with a larger SQL_Delay above this (orchestrator default 20). */
  readonly reasonableMaintenanceReplicationLagSeconds: number
}

export const defaultAnalysisPolicy: AnalysisPolicy = {
  instancePollSeconds: 5,
  masterPollSeconds: 1,
  reasonableInstanceCheckSeconds: 1,
  reasonableReplicationLagSeconds: 10,
  reasonableLockedSemiSyncMasterSeconds: 10,
  reduceReplicationAnalysisCount: true,
  recoveryIgnoreHostnameFilters: [],
  recoverMasterClusterFilters: [],
  recoverIntermediateMasterClusterFilters: [],
  recoverNonWriteableMaster: false,
  enforceExactSemiSyncReplicas: false
}

export const defaultPromotionPolicy: PromotionPolicy = {
  promotionIgnoreHostnameFilters: [],
  preventCrossDataCenterMasterFailover: false,
  preventCrossRegionMasterFailover: false,
  reasonableMaintenanceReplicationLagSeconds: 20
}

export const analysisPolicy = (c: OrchestratorConfig): AnalysisPolicy => {
  const extra = c as unknown as { readonly EnforceExactSemiSyncReplicas?: unknown }
  return {
    instancePollSeconds: c.InstancePollSeconds,
    masterPollSeconds: c.MasterPollMillis > 0 ? Math.min(c.InstancePollSeconds, c.MasterPollMillis / 1000) : c.InstancePollSeconds,
    reasonableInstanceCheckSeconds: c.ReasonableInstanceCheckSeconds,
    reasonableReplicationLagSeconds: c.ReasonableReplicationLagSeconds,
    reasonableLockedSemiSyncMasterSeconds: c.ReasonableLockedSemiSyncMasterSeconds === 0
      ? c.ReasonableReplicationLagSeconds
      : c.ReasonableLockedSemiSyncMasterSeconds,
    reduceReplicationAnalysisCount: c.ReduceReplicationAnalysisCount,
    recoveryIgnoreHostnameFilters: c.RecoveryIgnoreHostnameFilters,
    recoverMasterClusterFilters: c.RecoverMasterClusterFilters,
    recoverIntermediateMasterClusterFilters: c.RecoverIntermediateMasterClusterFilters,
    recoverNonWriteableMaster: c.RecoverNonWriteableMaster,
    // Read if a later config version declares the key; orchestrator's default is false.
    enforceExactSemiSyncReplicas: extra.EnforceExactSemiSyncReplicas === true
  }
}

export const promotionPolicy = (c: OrchestratorConfig): PromotionPolicy => ({
  promotionIgnoreHostnameFilters: c.PromotionIgnoreHostnameFilters,
  preventCrossDataCenterMasterFailover: c.PreventCrossDataCenterMasterFailover,
  preventCrossRegionMasterFailover: c.PreventCrossRegionMasterFailover,
  reasonableMaintenanceReplicationLagSeconds: c.ReasonableMaintenanceReplicationLagSeconds
})

export interface DowntimeEntry {
  readonly owner: string
  readonly reason: string
  readonly beginAt: number
  readonly endAt: number
}

export interface ProcessingNode {
  readonly hostname: string
  readonly token: string
}

export interface Snapshot {
  /** Evaluation time, epoch ms (orchestrator's `now()` in the query). */
  readonly now: number
  /**
   * Every stored instance by `host:port`, in key order. Instances under maintenance are included: they
   * still count as replicas.
   */
  readonly instances: ReadonlyMap<string, Instance>
  /** Instances under active maintenance: never analyzed (orchestrator's `maintenance_id IS NULL`). */
  readonly underMaintenance: ReadonlySet<string>
  readonly downtimes: ReadonlyMap<string, DowntimeEntry>
  /** Registered promotion rules; an instance without one is `neutral`. */
  readonly promotionRules: ReadonlyMap<string, PromotionRule>
  /** cluster name → alias (a manual override already wins in the Repository). */
  readonly clusterAliases: ReadonlyMap<string, string>
  /** cluster name → domain (orchestrator `cluster_domain_name`); absent = the cluster name. */
  readonly clusterDomains: ReadonlyMap<string, string>
  /** hostname → resolved hostname (orchestrator `hostname_resolve`); absent = itself. */
  readonly resolvedHostnames: ReadonlyMap<string, string>
  readonly staleCoordinates: Stale.StaleCoordinates
  readonly processingNode: ProcessingNode
  readonly policy: AnalysisPolicy
  readonly promotionPolicy: PromotionPolicy
  /** master `host:port` (resolved) → its replicas in key order: the analysis join, computed once. */
  readonly replicasOf: ReadonlyMap<string, ReadonlyArray<Instance>>
  /** Stored rows that could not be decoded (skipped, reported by the caller). */
  readonly decodeErrors: ReadonlyArray<string>
}

export interface SnapshotInput {
  readonly now: number
  readonly instances: Iterable<Instance>
  readonly downtimes?: Iterable<Downtime>
  readonly maintenance?: Iterable<Maintenance>
  readonly candidates?: Iterable<Candidate>
  readonly clusterAliases?: Iterable<ClusterAlias>
  readonly clusterDomains?: ReadonlyMap<string, string>
  readonly resolvedHostnames?: ReadonlyMap<string, string>
  readonly staleCoordinates?: Stale.StaleCoordinates
  readonly processingNode?: ProcessingNode
  readonly policy?: AnalysisPolicy
  readonly promotionPolicy?: PromotionPolicy
  readonly decodeErrors?: ReadonlyArray<string>
}

const hp = (k: { readonly hostname: string; readonly port: number }) => `${k.hostname}:${k.port}`

/** The join key of a master as its replicas name it: `coalesce(resolved_hostname, hostname):port`. */
export const joinKey = (resolved: ReadonlyMap<string, string>, key: InstanceKey): string =>
  `${resolved.get(key.hostname) ?? key.hostname}:${key.port}`

const indexReplicas = (instances: ReadonlyArray<Instance>): ReadonlyMap<string, ReadonlyArray<Instance>> => {
  const out = new Map<string, Array<Instance>>()
  for (const i of instances) {
    const m = i.replication?.masterKey ?? null
    if (m === null) continue
    const k = Key.format(m)
    const list = out.get(k)
    if (list === undefined) out.set(k, [i])
    else list.push(i)
  }
  return out
}

/** Pure constructor: indexes the rows. Later rows win on duplicate keys. */
export const make = (input: SnapshotInput): Snapshot => {
  const sorted = [...input.instances].sort((a, b) => Key.compare(a.key, b.key))
  const instances = new Map(sorted.map((i) => [Key.format(i.key), i] as const))
  const downtimes = new Map<string, DowntimeEntry>()
  for (const d of input.downtimes ?? []) {
    downtimes.set(hp(d.key), { owner: d.owner, reason: d.reason, beginAt: d.beginTimestamp, endAt: d.endTimestamp })
  }
  return {
    now: input.now,
    instances,
    underMaintenance: new Set([...(input.maintenance ?? [])].map((m) => hp(m.key))),
    downtimes,
    promotionRules: new Map([...(input.candidates ?? [])].map((c) => [hp(c.key), c.promotionRule] as const)),
    clusterAliases: new Map([...(input.clusterAliases ?? [])].map((a) => [a.clusterName, a.alias] as const)),
    clusterDomains: input.clusterDomains ?? new Map(),
    resolvedHostnames: input.resolvedHostnames ?? new Map(),
    staleCoordinates: input.staleCoordinates ?? Stale.empty,
    processingNode: input.processingNode ?? { hostname: "", token: "" },
    policy: input.policy ?? defaultAnalysisPolicy,
    promotionPolicy: input.promotionPolicy ?? defaultPromotionPolicy,
    replicasOf: indexReplicas([...instances.values()]),
    decodeErrors: input.decodeErrors ?? []
  }
}

/** The replicas of `master` (the analysis join). */
export const replicasOf = (s: Snapshot, master: InstanceKey): ReadonlyArray<Instance> =>
  s.replicasOf.get(joinKey(s.resolvedHostnames, master)) ?? []

export const promotionRuleOf = (s: Snapshot, key: InstanceKey): PromotionRule =>
  s.promotionRules.get(Key.format(key)) ?? "neutral"

export const downtimeOf = (s: Snapshot, key: InstanceKey): DowntimeEntry | undefined => s.downtimes.get(Key.format(key))

/** orchestrator `ifnull(end_timestamp, now()) > now()` on an active downtime row. */
export const isDowntimed = (s: Snapshot, key: InstanceKey): boolean => {
  const d = downtimeOf(s, key)
  return d !== undefined && d.endAt > s.now
}

export interface ReadOptions {
  readonly policy: AnalysisPolicy
  readonly promotionPolicy?: PromotionPolicy
  /** orchestrator `CandidateInstanceExpireMinutes` (default 60): older registrations are ignored. */
  readonly candidateInstanceExpireMinutes?: number
  readonly staleCoordinates?: Stale.StaleCoordinates
  readonly processingNode?: ProcessingNode
  readonly resolvedHostnames?: ReadonlyMap<string, string>
  readonly clusterDomains?: ReadonlyMap<string, string>
  /** Evaluation time; the Clock's when absent. */
  readonly now?: number
}

/** Reads the rows from the Repository and builds the snapshot. */
export const read = (options: ReadOptions): Effect.Effect<Snapshot, RepositoryError, Repository> =>
  Effect.gen(function*() {
    const repo = yield* Repository
    const now = options.now ?? (yield* Effect.clockWith((c) => c.currentTimeMillis))
    const expireMs = (options.candidateInstanceExpireMinutes ?? 60) * 60_000
    const [records, downtimes, maintenance, candidates, clusterAliases] = yield* Effect.all([
      repo.readInstances,
      repo.readActiveDowntimes(now),
      repo.readActiveMaintenance(now),
      repo.readCandidates(now - expireMs),
      repo.readClusterAliases
    ])
    const decoded = records.map(fromRecord)
    return make({
      now,
      instances: decoded.flatMap((e) => (Either.isRight(e) ? [e.right] : [])),
      decodeErrors: decoded.flatMap((e) => (Either.isLeft(e) ? [e.left] : [])),
      downtimes,
      maintenance,
      candidates,
      clusterAliases,
      policy: options.policy,
      ...(options.promotionPolicy === undefined ? {} : { promotionPolicy: options.promotionPolicy }),
      ...(options.staleCoordinates === undefined ? {} : { staleCoordinates: options.staleCoordinates }),
      ...(options.processingNode === undefined ? {} : { processingNode: options.processingNode }),
      ...(options.resolvedHostnames === undefined ? {} : { resolvedHostnames: options.resolvedHostnames }),
      ...(options.clusterDomains === undefined ? {} : { clusterDomains: options.clusterDomains })
    })
  })

/** `read` with every policy value taken from the configuration. */
export const readWithConfig = (
  config: OrchestratorConfig,
  options: Omit<ReadOptions, "policy" | "promotionPolicy" | "candidateInstanceExpireMinutes"> = {}
): Effect.Effect<Snapshot, RepositoryError, Repository> =>
  read({
    ...options,
    policy: analysisPolicy(config),
    promotionPolicy: promotionPolicy(config),
    candidateInstanceExpireMinutes: config.CandidateInstanceExpireMinutes
  })
