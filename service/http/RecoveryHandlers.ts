/**
 * Handlers of core/api/routes/Recovery.ts. Manual recoveries and takeovers run through the same plan/executor
 * as automated ones (core/recovery), serialized per cluster with the loop (`Recoveries.exclusive`), and skip
 * downtime, cluster filters and anti-flapping blocks (orchestrator's rule for manual recoveries). Refactorings
 * are planned with their safety checks first: an unsafe move answers an error and changes nothing.
 * Messages and JSON shapes follow orchestrator's api.go (TopologyRecovery keys: spec §2.6).
 */
import { Clock, Effect, Either } from "effect"
import { RE2JS } from "re2js"
import { ApiFailure, ok } from "../../core/api/Envelope.js"
import { analyze } from "../../core/analysis/Analyze.js"
import * as AnalysisJson from "../../core/analysis/AnalysisJson.js"
import type { ReplicationAnalysis } from "../../core/analysis/ReplicationAnalysis.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import { type FailureDetection, type Recovery, Repository, type RepositoryError } from "../../core/backend/Repository.js"
import { AppConfig } from "../../core/config/AppConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import { isActive, recoverableCodes } from "../../core/recovery/Gate.js"
import * as Plan from "../../core/recovery/Plan.js"
import type { ExecutionResult } from "../../core/recovery/Executor.js"
import { blockSeconds, hookValuesFor, recoverAnalysis, recoveryPolicy, runPlan } from "../../core/recovery/Recover.js"
import type { Plan as PlanT } from "../../core/recovery/Step.js"
import * as Model from "../../core/topology/Instance.js"
import type { Instance } from "../../core/topology/Instance.js"
import * as Key from "../../core/topology/InstanceKey.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import { Recoveries } from "../Recovery.js"
import { fail, type RequestContext } from "./Api.js"
import * as InstanceViews from "./InstanceHandlers.js"
import { sqlTimestamp } from "./MetaHandlers.js"
import { envelope, json } from "./Reply.js"

type InstanceParams = { readonly host: string; readonly port: number }
type BelowParams = InstanceParams & { readonly belowHost: string; readonly belowPort: number }

const PAGE = 50
const keyJson = (k: { readonly hostname: string; readonly port: number } | null) =>
  k === null ? { Hostname: "", Port: 0 } : { Hostname: k.hostname, Port: k.port }
const ikey = (host: string, port: number) => Key.unsafeMake(host, port)

const backend = <A, R>(e: Effect.Effect<A, RepositoryError, R>) => e.pipe(Effect.catchTag("RepositoryError", (x) => fail(x.message)))

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

const splitKeys = (s: string) =>
  s.split(",").filter((x) => x !== "").map((x) => {
    const i = x.lastIndexOf(":")
    return { Hostname: x.slice(0, i), Port: Number(x.slice(i + 1)) }
  })

/** orchestrator's TopologyRecovery JSON. */
export const recoveryJson = (r: Recovery) => ({
  Id: r.id,
  UID: r.uid,
  AnalysisEntry: parseJson(r.analysisEntry),
  SuccessorKey: r.successorKey === null ? null : keyJson(r.successorKey),
  SuccessorAlias: r.successorAlias,
  SuccessorBinlogCoordinates: null,
  IsActive: r.inActivePeriod,
  IsSuccessful: r.isSuccessful,
  LostReplicas: splitKeys(r.lostReplicas),
  ParticipatingInstanceKeys: splitKeys(r.participatingInstances),
  AllErrors: r.allErrors === "" ? [] : r.allErrors.split("\n"),
  RecoveryStartTimestamp: sqlTimestamp(r.startActivePeriod),
  RecoveryEndTimestamp: r.endRecovery === null ? "" : sqlTimestamp(r.endRecovery),
  ProcessingNodeHostname: r.processingNodeHostname,
  ProcessingNodeToken: r.processingNodeToken,
  Acknowledged: r.acknowledged,
  AcknowledgedAt: r.acknowledgedAt === null ? "" : sqlTimestamp(r.acknowledgedAt),
  AcknowledgedBy: r.acknowledgedBy,
  AcknowledgedComment: r.acknowledgedComment,
  LastDetectionId: r.lastDetectionId,
  RelatedRecoveryId: r.relatedRecoveryId,
  Type: r.recoveryType,
  // orchestrator sets the method (GetMasterRecoveryType) only in dead-master recoveries; co-master and
  // intermediate-master recoveries keep NewTopologyRecovery's NotMasterRecovery.
  RecoveryType: r.recoveryType === "MasterRecovery" ? "MasterRecoveryGTID" : "NotMasterRecovery"
})

/** A detection in TopologyRecovery shape (orchestrator's audit-failure-detection). */
const detectionJson = (d: FailureDetection) => ({
  Id: d.id,
  UID: "",
  AnalysisEntry: parseJson(d.analysisEntry),
  SuccessorKey: null,
  SuccessorAlias: "",
  IsActive: d.inActivePeriod,
  IsSuccessful: false,
  LostReplicas: [],
  ParticipatingInstanceKeys: [],
  AllErrors: [],
  RecoveryStartTimestamp: sqlTimestamp(d.startActivePeriod),
  RecoveryEndTimestamp: "",
  ProcessingNodeHostname: d.processingNodeHostname,
  ProcessingNodeToken: d.processingNodeToken,
  Acknowledged: false,
  AcknowledgedAt: "",
  AcknowledgedBy: "",
  AcknowledgedComment: "",
  LastDetectionId: d.id,
  RelatedRecoveryId: 0,
  Type: "",
  RecoveryType: ""
})

const readRecoveries = (filter: (r: Recovery) => boolean, page = 0) =>
  backend(Effect.flatMap(Repository, (repo) => repo.readRecoveries(10_000, 0))).pipe(
    Effect.map((rs) => rs.filter(filter).slice(page * PAGE, (page + 1) * PAGE))
  )
const readDetections = (filter: (d: FailureDetection) => boolean, page = 0) =>
  backend(Effect.flatMap(Repository, (repo) => repo.readFailureDetections(10_000, 0))).pipe(
    Effect.map((ds) => ds.filter(filter).slice(page * PAGE, (page + 1) * PAGE))
  )

const clusterOfAlias = (alias: string) =>
  backend(Effect.flatMap(Repository, (repo) => repo.readClusterAliases)).pipe(
    Effect.map((as) => as.find((a) => a.alias === alias)?.clusterName ?? alias)
  )

const unacknowledged = (ctx: RequestContext) => ctx.url.searchParams.get("unacknowledged") === "true"

const snapshot = Effect.gen(function*() {
  const config = yield* AppConfig
  const id = yield* NodeIdentity
  return yield* backend(Snapshot.readWithConfig(config, { processingNode: { hostname: id.hostname, token: id.token } }))
})

const instanceOf = (s: Snapshot.Snapshot, k: InstanceKey) => s.instances.get(Key.format(k))

/** The cluster's master: the instance named by the cluster (name or alias) or any instance of it, walked up. */
const clusterMaster = (s: Snapshot.Snapshot, hint: string): Instance | undefined => {
  const name = [...s.clusterAliases.entries()].find(([, alias]) => alias === hint)?.[0] ?? hint
  const members = [...s.instances.values()].filter((i) => i.clusterName === name)
  return members.find((i) => !Model.isReplica(i)) ?? members[0]
}

const exclusive = <A, E, R>(cluster: string, effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Recoveries, (r) => r.exclusive(cluster, effect)).pipe(
    Effect.catchTag("ClusterBusy", () => fail(`a recovery of cluster ${cluster} is already running`))
  )

const executorFailure = <A, R>(e: Effect.Effect<A, { readonly _tag: "ExecutorError"; readonly reason: string }, R>) =>
  e.pipe(Effect.catchTag("ExecutorError", (x) => fail(x.reason)))

/** The analysis entry of `key` for a manual recovery; `force` turns any entry into DeadMaster (orchestrator's command hint). */
const entryFor = (key: InstanceKey, force: string | null) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const entry = analyze(s, { includeDowntimed: true, includeNoProblem: true }).find((a) => Key.equals(a.analyzedInstanceKey, key))
    if (entry === undefined) return yield* fail(`Recovery not attempted: no analysis for ${Key.format(key)}`)
    if (force !== null) {
      if (!entry.isMaster) return yield* fail(`Cannot ${force}: ${Key.format(key)} is not a master`)
      return { ...entry, analysis: "DeadMaster", isActionableRecovery: true, commandHint: force } satisfies ReplicationAnalysis
    }
    if (!recoverableCodes.has(entry.analysis)) return yield* fail(`Recovery not attempted: ${Key.format(key)} is analyzed as ${entry.analysis}`)
    return entry
  })

const manualRecover = (key: InstanceKey, candidate: InstanceKey | null, runHooks: boolean, force: string | null) =>
  Effect.gen(function*() {
    const entry = yield* entryFor(key, force)
    // Manual recoveries implicitly acknowledge completed recoveries of the instance (orchestrator). The analysis code
    // picks the recovery, as orchestrator's CheckAndRecover does for `recover`: a dead intermediate master or co-master
    // is recovered too (the candidate is only used for a dead master, as there).
    const outcome = yield* exclusive(entry.clusterDetails.clusterName, executorFailure(recoverAnalysis(entry, {
      requested: candidate,
      runHooks,
      command: force ?? "",
      detectionId: 0
    })))
    if (outcome._tag === "NotAttempted") return yield* fail(`Recovery not attempted: ${outcome.reason}`)
    if (!outcome.result.successful || outcome.result.successor === null) {
      return yield* fail(`Recovery attempted but no instance promoted: ${outcome.result.errors.join("; ")}`)
    }
    return { uid: outcome.uid, successor: outcome.result.successor }
  })

/** `recover?skipProcesses=true` runs no hooks, as recover-lite does (orchestrator's api.go). */
const recover = (runHooks: boolean) => (p: InstanceParams & { readonly candidateHost?: string; readonly candidatePort?: number }, ctx?: RequestContext) =>
  Effect.gen(function*() {
    const candidate = p.candidateHost === undefined || p.candidatePort === undefined ? null : ikey(p.candidateHost, p.candidatePort)
    const skipProcesses = ctx?.url.searchParams.get("skipProcesses") === "true"
    const r = yield* manualRecover(ikey(p.host, p.port), candidate, runHooks && !skipProcesses, null)
    return envelope(ok(`Recovery executed on ${p.host}:${p.port}`, keyJson(r.successor)))
  })

const recoveryByUid = (uid: string) =>
  backend(Effect.flatMap(Repository, (repo) => repo.readRecoveryByUid(uid)))

const forceFailover = (key: InstanceKey, designated: InstanceKey | null) =>
  Effect.gen(function*() {
    const command = designated === null ? "force-master-failover" : "force-master-takeover"
    const r = yield* manualRecover(key, designated, true, command)
    const rec = yield* recoveryByUid(r.uid)
    return envelope(ok("Master failed over", rec === undefined ? null : recoveryJson(rec)))
  })

const masterByHint = (hint: string) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const m = clusterMaster(s, hint)
    return m === undefined ? yield* fail(`Unable to determine cluster name for ${hint}`) : m.key
  })

const graceful = (auto: boolean) => (key: InstanceKey, designated: InstanceKey | null) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const config = yield* AppConfig
    const id = yield* NodeIdentity
    const master = instanceOf(s, key)
    if (master === undefined) return yield* fail(`graceful-master-takeover: unknown instance ${Key.format(key)}`)
    const planned = Plan.planGracefulTakeover({
      master,
      replicas: Snapshot.replicasOf(s, key),
      designated,
      auto,
      ruleOf: (k) => Snapshot.promotionRuleOf(s, k),
      policy: recoveryPolicy(config)
    })
    if (Either.isLeft(planned)) return yield* fail(`graceful-master-takeover: ${planned.left.reason}`)
    const entry = analyze(s, { includeDowntimed: true, includeNoProblem: true }).find((a) => Key.equals(a.analyzedInstanceKey, key))
    if (entry === undefined) return yield* fail(`graceful-master-takeover: no analysis for ${Key.format(key)}`)
    const analysis: ReplicationAnalysis = { ...entry, analysis: "DeadMaster", commandHint: "graceful-master-takeover" }
    const result = yield* exclusive(master.clusterName, executorFailure(runPlan(
      planned.right,
      hookValuesFor(analysis, "graceful-master-takeover", id.hostname),
      true,
      { analysis, recoveryType: "MasterRecovery" }
    )))
    if (!result.successful) return yield* fail(`graceful-master-takeover: ${result.errors.join("; ")}`)
    const recs = yield* readRecoveries((r) => r.clusterName === master.clusterName)
    return envelope(ok("graceful-master-takeover: successor promoted", recs[0] === undefined ? null : recoveryJson(recs[0])))
  })

const gracefulRoutes = (auto: boolean) => {
  const run = graceful(auto)
  return {
    byKey: (p: InstanceParams) => run(ikey(p.host, p.port), null),
    designated: (p: InstanceParams & { readonly designatedHost: string; readonly designatedPort: number }) =>
      run(ikey(p.host, p.port), ikey(p.designatedHost, p.designatedPort)),
    byCluster: (p: { readonly clusterHint: string }) => Effect.flatMap(masterByHint(p.clusterHint), (k) => run(k, null)),
    byClusterDesignated: (p: { readonly clusterHint: string; readonly designatedHost: string; readonly designatedPort: number }) =>
      Effect.flatMap(masterByHint(p.clusterHint), (k) => run(k, ikey(p.designatedHost, p.designatedPort)))
  }
}

// ---- refactoring --------------------------------------------------------------------------------------------

/**
 * What a refactoring answers as Details (orchestrator's api.go): the moved instance, or the list of moved
 * replicas for the bulk commands, each re-probed after the move so MasterKey shows where it went; regroup
 * answers the promoted replica's key.
 */
type Answer =
  | { readonly _tag: "Instance"; readonly key: InstanceKey }
  | { readonly _tag: "Instances"; readonly keys: ReadonlyArray<InstanceKey> }
  | { readonly _tag: "Successor" }

/** The instances as they are now: probed again (a failed probe leaves the stored row), then read and encoded. */
const refreshed = (keys: ReadonlyArray<InstanceKey>) =>
  Effect.gen(function*() {
    const discovery = yield* Discovery
    yield* Effect.forEach(keys, (k) =>
      discovery.refresh(k).pipe(
        Effect.catchAll((e) => Effect.logWarning(`re-probe of ${Key.format(k)} after a refactoring failed: ${e.message}`))
      ), { concurrency: "unbounded", discard: true })
    const view = yield* InstanceViews.snapshot
    return keys.flatMap((k) => {
      const i = view.find(k)
      return i === undefined ? [] : [view.encode(i)]
    })
  })

/**
 * Plans and runs a refactoring. Details: see Answer; `summary` replaces the message's "done". `read` is the
 * snapshot the caller already read, if it did (the backend is then not read twice).
 */
const refactor = (
  what: string,
  plan: (s: Snapshot.Snapshot, all: ReadonlyArray<Instance>) => Either.Either<PlanT, Plan.PlanRefused> | string,
  answer: Answer,
  summary?: (result: ExecutionResult) => string,
  read?: Snapshot.Snapshot
) =>
  Effect.gen(function*() {
    const s = read ?? (yield* snapshot)
    const id = yield* NodeIdentity
    const all = [...s.instances.values()]
    const planned = plan(s, all)
    if (typeof planned === "string") return yield* fail(`${what}: ${planned}`)
    if (Either.isLeft(planned)) return yield* fail(`${what}: ${planned.left.reason}`)
    const p = planned.right
    const result = yield* exclusive(p.clusterName, executorFailure(runPlan(p, {
      failureType: "",
      instanceType: "",
      isMaster: false,
      isCoMaster: false,
      failureDescription: what,
      command: what,
      failedHost: p.target.hostname,
      failedPort: p.target.port,
      failureCluster: p.clusterName,
      failureClusterAlias: s.clusterAliases.get(p.clusterName) ?? p.clusterName,
      failureClusterDomain: p.clusterName,
      countReplicas: 0,
      isDowntimed: false,
      autoMasterRecovery: false,
      autoIntermediateMasterRecovery: false,
      orchestratorHost: id.hostname,
      replicaHosts: []
    }, true, null)))
    if (!result.successful) return yield* fail(`${what}: ${result.errors.join("; ")}`)
    const message = `${what}: ${summary === undefined ? "done" : summary(result)}`
    switch (answer._tag) {
      case "Successor": {
        const decided = result.plan.successor ?? p.target
        return envelope(ok(message, keyJson(decided)))
      }
      case "Instance": {
        const [moved] = yield* refreshed([answer.key])
        return envelope(ok(message, moved ?? keyJson(answer.key)))
      }
      case "Instances":
        return envelope(ok(message, yield* refreshed(answer.keys)))
    }
  })

/**
 * `?pattern=`: only replicas whose "host:port" contains a match of this regular expression (orchestrator's
 * filter on the key's DisplayString); absent or empty matches all. Go's regexp syntax through RE2JS, which
 * matches in linear time: the pattern comes from the request, and a backtracking RegExp such as `(.*)*x` would
 * block the event loop (raft heartbeats included). A pattern that does not compile is a 400 naming it
 * (orchestrator lets it match nothing).
 */
const replicaPattern = (ctx: RequestContext | undefined) => {
  const source = ctx?.url.searchParams.get("pattern") ?? ""
  if (source === "") return Effect.succeed((_k: InstanceKey) => true)
  return Effect.try(() => RE2JS.compile(source)).pipe(
    Effect.mapError((e) => new ApiFailure({ message: `bad pattern ${JSON.stringify(source)}: ${e.error instanceof Error ? e.error.message : String(e.error)}`, details: null, status: 400 })),
    Effect.map((re) => (k: InstanceKey) => re.matcher(Key.format(k)).find())
  )
}

const find = (all: ReadonlyArray<Instance>, k: InstanceKey) => all.find((i) => Key.equals(i.key, k))

const moveBelow = (what: string) => (p: BelowParams) =>
  Effect.flatMap(AppConfig, (config) =>
    refactor(what, (_s, all) => {
      const replica = find(all, ikey(p.host, p.port))
      const target = find(all, ikey(p.belowHost, p.belowPort))
      if (replica === undefined || target === undefined) return "unknown instance"
      return Plan.planRelocate([replica], target, all, recoveryPolicy(config), { repointInPlace: what === "repoint" })
    }, { _tag: "Instance", key: ikey(p.host, p.port) }))

/**
 * The bulk moves: the replicas of `of` (those matching `?pattern=`, never the target itself) below `to`;
 * Details = the moved replicas. `to` = "master": `of`'s own master (move-up-replicas). No replica to move
 * (none, or none matching) answers OK with an empty list, as orchestrator's "Relocated 0 replicas".
 */
const moveReplicasOf = (what: string, verb: string, of: InstanceKey, to: InstanceKey | "master", ctx: RequestContext | undefined) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const matches = yield* replicaPattern(ctx)
    const s = yield* snapshot
    const all = [...s.instances.values()]
    const source = find(all, of)
    if (source === undefined) return yield* fail(`${what}: unknown instance ${Key.format(of)}`)
    const targetKey = to === "master" ? Model.masterKey(source) : to
    if (targetKey === null) return yield* fail(`${what}: ${Key.format(of)} is not a replica: its replicas cannot move up`)
    const target = find(all, targetKey)
    if (target === undefined) return yield* fail(`${what}: unknown instance ${Key.format(targetKey)}`)
    const replicas = Snapshot.replicasOf(s, of).filter((r) => !Key.equals(r.key, target.key) && matches(r.key))
    if (replicas.length === 0) return envelope(ok(`${what}: 0 replicas`, []))
    return yield* refactor(
      what,
      () => Plan.planRelocate(replicas, target, all, recoveryPolicy(config), { repointInPlace: what === "repoint-replicas" }),
      { _tag: "Instances", keys: replicas.map((r) => r.key) },
      () => `${verb} ${replicas.length} replicas of ${Key.format(of)} below ${Key.format(target.key)}`,
      s
    )
  })

const moveReplicas = (what: string, verb: string) => (p: BelowParams, ctx?: RequestContext) =>
  moveReplicasOf(what, verb, ikey(p.host, p.port), ikey(p.belowHost, p.belowPort), ctx)
const moveUpReplicas = (p: InstanceParams, ctx?: RequestContext) =>
  moveReplicasOf("move-up-replicas", "moved up", ikey(p.host, p.port), "master", ctx)
const repointReplicas = (p: InstanceParams, ctx?: RequestContext) =>
  moveReplicasOf("repoint-replicas", "repointed", ikey(p.host, p.port), ikey(p.host, p.port), ctx)

/**
 * regroup-replicas (and -gtid, and the -slaves synonyms): only the GTID method exists here, so both routes regroup
 * by GTID (orchestrator's regroup-replicas picks GTID when every replica uses it; otherwise we refuse). Details =
 * the promoted replica's key, as orchestrator; the message keeps orchestrator's "promoted replica: …, lost: …,
 * moved: …" after our "<command> (gtid):" prefix.
 */
const regroup = (what: string) => (p: InstanceParams) =>
  Effect.flatMap(AppConfig, (config) =>
    refactor(`${what} (gtid)`, (s, all) => {
      const master = find(all, ikey(p.host, p.port))
      if (master === undefined) return `unknown instance ${p.host}:${p.port}`
      return Plan.planRegroup({
        master,
        replicas: Snapshot.replicasOf(s, master.key),
        all,
        ruleOf: (k) => Snapshot.promotionRuleOf(s, k),
        policy: recoveryPolicy(config)
      })
    }, { _tag: "Successor" }, (r) => {
      const moved = r.plan.steps.flatMap((x) => (x.step._tag === "MoveReplicas" ? x.step.replicas : []))
      const promoted = r.plan.successor === null ? "" : `${r.plan.successor.hostname}:${r.plan.successor.port}`
      return `promoted replica: ${promoted}, lost: ${r.lost.length}, moved: ${moved.length - r.lost.filter((l) => moved.some((m) => m.hostname === l.hostname && m.port === l.port)).length}`
    }))

export const recoveryHandlers = {
  recover: recover(true),
  recoverWithCandidate: recover(true),
  recoverLite: recover(false),
  recoverLiteWithCandidate: recover(false),
  forceMasterFailover: (p: InstanceParams) => forceFailover(ikey(p.host, p.port), null),
  forceMasterFailoverByCluster: (p: { readonly clusterHint: string }) => Effect.flatMap(masterByHint(p.clusterHint), (k) => forceFailover(k, null)),
  forceMasterTakeover: (p: InstanceParams & { readonly designatedHost: string; readonly designatedPort: number }) =>
    forceFailover(ikey(p.host, p.port), ikey(p.designatedHost, p.designatedPort)),
  forceMasterTakeoverByCluster: (p: { readonly clusterHint: string; readonly designatedHost: string; readonly designatedPort: number }) =>
    Effect.flatMap(masterByHint(p.clusterHint), (k) => forceFailover(k, ikey(p.designatedHost, p.designatedPort))),
  gracefulMasterTakeover: gracefulRoutes(false).byKey,
  gracefulMasterTakeoverDesignated: gracefulRoutes(false).designated,
  gracefulMasterTakeoverByCluster: gracefulRoutes(false).byCluster,
  gracefulMasterTakeoverByClusterDesignated: gracefulRoutes(false).byClusterDesignated,
  gracefulMasterTakeoverAuto: gracefulRoutes(true).byKey,
  gracefulMasterTakeoverAutoDesignated: gracefulRoutes(true).designated,
  gracefulMasterTakeoverAutoByCluster: gracefulRoutes(true).byCluster,
  gracefulMasterTakeoverAutoByClusterDesignated: gracefulRoutes(true).byClusterDesignated,

  automatedRecoveryFilters: () =>
    Effect.map(AppConfig, (c) =>
      envelope(ok("Automated recovery configuration details", {
        RecoverMasterClusterFilters: c.RecoverMasterClusterFilters,
        RecoverIntermediateMasterClusterFilters: c.RecoverIntermediateMasterClusterFilters,
        RecoveryIgnoreHostnameFilters: c.RecoveryIgnoreHostnameFilters
      }))),
  auditFailureDetection: () => Effect.map(readDetections(() => true), (ds) => json(ds.map(detectionJson))),
  auditFailureDetectionPage: (p: { readonly page: number }) => Effect.map(readDetections(() => true, p.page), (ds) => json(ds.map(detectionJson))),
  auditFailureDetectionById: (p: { readonly id: number }) => Effect.map(readDetections((d) => d.id === p.id), (ds) => json(ds.map(detectionJson))),
  auditFailureDetectionByAlias: (p: { readonly clusterAlias: string }) =>
    Effect.map(readDetections((d) => d.clusterAlias === p.clusterAlias), (ds) => json(ds.map(detectionJson))),
  auditFailureDetectionByAliasPage: (p: { readonly clusterAlias: string; readonly page: number }) =>
    Effect.map(readDetections((d) => d.clusterAlias === p.clusterAlias, p.page), (ds) => json(ds.map(detectionJson))),
  auditRecovery: (_p: object, ctx: RequestContext) =>
    Effect.map(readRecoveries((r) => !unacknowledged(ctx) || !r.acknowledged), (rs) => json(rs.map(recoveryJson))),
  auditRecoveryPage: (p: { readonly page: number }, ctx: RequestContext) =>
    Effect.map(readRecoveries((r) => !unacknowledged(ctx) || !r.acknowledged, p.page), (rs) => json(rs.map(recoveryJson))),
  auditRecoveryById: (p: { readonly id: number }) => Effect.map(readRecoveries((r) => r.id === p.id), (rs) => json(rs.map(recoveryJson))),
  auditRecoveryByUid: (p: { readonly uid: string }) => Effect.map(readRecoveries((r) => r.uid === p.uid), (rs) => json(rs.map(recoveryJson))),
  auditRecoveryByCluster: (p: { readonly clusterName: string }, ctx: RequestContext) =>
    Effect.map(readRecoveries((r) => r.clusterName === p.clusterName && (!unacknowledged(ctx) || !r.acknowledged)), (rs) => json(rs.map(recoveryJson))),
  auditRecoveryByClusterPage: (p: { readonly clusterName: string; readonly page: number }, ctx: RequestContext) =>
    Effect.map(readRecoveries((r) => r.clusterName === p.clusterName && (!unacknowledged(ctx) || !r.acknowledged), p.page), (rs) => json(rs.map(recoveryJson))),
  auditRecoveryByAlias: (p: { readonly clusterAlias: string }, ctx: RequestContext) =>
    Effect.flatMap(clusterOfAlias(p.clusterAlias), (name) =>
      Effect.map(readRecoveries((r) => r.clusterName === name && (!unacknowledged(ctx) || !r.acknowledged)), (rs) => json(rs.map(recoveryJson)))),
  auditRecoveryByAliasPage: (p: { readonly clusterAlias: string; readonly page: number }, ctx: RequestContext) =>
    Effect.flatMap(clusterOfAlias(p.clusterAlias), (name) =>
      Effect.map(readRecoveries((r) => r.clusterName === name && (!unacknowledged(ctx) || !r.acknowledged), p.page), (rs) => json(rs.map(recoveryJson)))),
  auditRecoverySteps: (p: { readonly uid: string }) =>
    Effect.map(backend(Effect.flatMap(Repository, (repo) => repo.readRecoverySteps(p.uid))), (steps) =>
      json(steps.map((s) => ({ Id: s.id, RecoveryUID: s.recoveryUid, AuditAt: sqlTimestamp(s.auditAt), Message: s.message })))),
  activeClusterRecovery: (p: { readonly clusterName: string }) =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const now = yield* Clock.currentTimeMillis
      const rs = yield* readRecoveries((r) => r.clusterName === p.clusterName && r.endRecovery === null)
      return json(rs.filter((r) => isActive(r, now, { recoverMasterClusterFilters: [], recoverIntermediateMasterClusterFilters: [], recoveryPeriodBlockSeconds: blockSeconds(config) })).map(recoveryJson))
    }),
  recentlyActiveClusterRecovery: (p: { readonly clusterName: string }) =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const now = yield* Clock.currentTimeMillis
      const rs = yield* readRecoveries((r) => r.clusterName === p.clusterName && r.inActivePeriod && now < r.startActivePeriod + blockSeconds(config) * 1000)
      return json(rs.map(recoveryJson))
    }),
  recentlyActiveInstanceRecovery: (p: InstanceParams) =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const now = yield* Clock.currentTimeMillis
      const rs = yield* readRecoveries((r) =>
        r.key.hostname === p.host && r.key.port === p.port && r.inActivePeriod && now < r.startActivePeriod + blockSeconds(config) * 1000
      )
      return json(rs.map(recoveryJson))
    }),
  blockedRecoveries: () => Effect.map(Effect.flatMap(Recoveries, (r) => r.blocked), (bs) => json(bs.map(blockedJson))),
  blockedRecoveriesByCluster: (p: { readonly clusterName: string }) =>
    Effect.map(Effect.flatMap(Recoveries, (r) => r.blocked), (bs) => json(bs.filter((b) => b.clusterName === p.clusterName).map(blockedJson))),
  recoveryPeerAnalysis: (p: InstanceParams) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      const entry = analyze(s, { includeDowntimed: true, includeNoProblem: true }).find((a) => a.analyzedInstanceKey.hostname === p.host && a.analyzedInstanceKey.port === p.port)
      return envelope(ok("Analysis", entry === undefined ? null : AnalysisJson.encode(entry)))
    }),

  relocate: moveBelow("relocate"),
  relocateBelow: moveBelow("relocate"),
  moveBelowGtid: moveBelow("move-below-gtid"),
  repoint: moveBelow("repoint"),
  relocateReplicas: moveReplicas("relocate-replicas", "relocated"),
  relocateSlaves: moveReplicas("relocate-replicas", "relocated"),
  moveReplicasGtid: moveReplicas("move-replicas-gtid", "moved"),
  moveSlavesGtid: moveReplicas("move-replicas-gtid", "moved"),
  moveUpReplicas,
  moveUpSlaves: moveUpReplicas,
  repointReplicas,
  repointSlaves: repointReplicas,
  regroupReplicas: regroup("regroup-replicas"),
  regroupSlaves: regroup("regroup-replicas"),
  regroupReplicasGtid: regroup("regroup-replicas"),
  regroupSlavesGtid: regroup("regroup-replicas"),
  moveBelow: (p: InstanceParams & { readonly siblingHost: string; readonly siblingPort: number }) =>
    Effect.flatMap(AppConfig, (config) =>
      refactor("move-below", (_s, all) => {
        const replica = find(all, ikey(p.host, p.port))
        const sibling = find(all, ikey(p.siblingHost, p.siblingPort))
        if (replica === undefined || sibling === undefined) return "unknown instance"
        if (!Key.equals(Model.masterKey(replica), Model.masterKey(sibling))) return `${p.siblingHost}:${p.siblingPort} is not a sibling of ${p.host}:${p.port}`
        return Plan.planRelocate([replica], sibling, all, recoveryPolicy(config))
      }, { _tag: "Instance", key: ikey(p.host, p.port) })),
  moveUp: (p: InstanceParams) =>
    Effect.flatMap(AppConfig, (config) =>
      refactor("move-up", (_s, all) => {
        const replica = find(all, ikey(p.host, p.port))
        const mk = replica === undefined ? null : Model.masterKey(replica)
        const master = mk === null ? undefined : find(all, mk)
        const gk = master === undefined ? null : Model.masterKey(master)
        const grand = gk === null ? undefined : find(all, gk)
        if (replica === undefined || master === undefined) return "unknown instance or master"
        if (grand === undefined) return `${Key.format(master.key)} is not a replica: cannot move up`
        return Plan.planRelocate([replica], grand, all, recoveryPolicy(config))
      }, { _tag: "Instance", key: ikey(p.host, p.port) })),
  takeMaster: (p: InstanceParams) => takeMaster(p),
  enslaveMaster: (p: InstanceParams) => takeMaster(p),
  takeSiblings: (p: InstanceParams) => takeSiblings(p),
  enslaveSiblings: (p: InstanceParams) => takeSiblings(p),
  makeCoMaster: (p: InstanceParams) =>
    refactor("make-co-master", (_s, all) => {
      const replica = find(all, ikey(p.host, p.port))
      return replica === undefined ? "unknown instance" : Plan.planMakeCoMaster(replica, all)
    }, { _tag: "Instance", key: ikey(p.host, p.port) })
}

const takeMaster = (p: InstanceParams) =>
  Effect.flatMap(AppConfig, (config) =>
    refactor("take-master", (_s, all) => {
      const replica = find(all, ikey(p.host, p.port))
      return replica === undefined ? "unknown instance" : Plan.planTakeMaster(replica, all, recoveryPolicy(config))
    }, { _tag: "Instance", key: ikey(p.host, p.port) }))

const takeSiblings = (p: InstanceParams) =>
  Effect.flatMap(AppConfig, (config) =>
    refactor("take-siblings", (s, all) => {
      const me = find(all, ikey(p.host, p.port))
      const mk = me === undefined ? null : Model.masterKey(me)
      if (me === undefined || mk === null) return "not a replica"
      const siblings = Snapshot.replicasOf(s, mk).filter((r) => !Key.equals(r.key, me.key))
      return Plan.planRelocate(siblings, me, all, recoveryPolicy(config))
    }, { _tag: "Instance", key: ikey(p.host, p.port) }))

const blockedJson = (b: { readonly key: { readonly hostname: string; readonly port: number }; readonly clusterName: string; readonly analysis: string; readonly lastBlockedAt: number; readonly blockingRecoveryId: number; readonly reason: string }) => ({
  FailedInstanceKey: keyJson(b.key),
  ClusterName: b.clusterName,
  Analysis: b.analysis,
  LastBlockedTimestamp: sqlTimestamp(b.lastBlockedAt),
  BlockingRecoveryId: b.blockingRecoveryId,
  Reason: b.reason
})
