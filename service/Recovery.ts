/**
 * The leader-only recovery loop (design.md "Recoverer: LEADER ONLY"). A watcher opens a scope when this node
 * gains leadership and closes it when it loses it, so every recovery fiber is interrupted at once on a
 * leadership loss (a deposed leader never changes MySQL state); the next leader resumes unfinished
 * recoveries from their audited plans (core/recovery/Executor.ts `resumePoint`).
 *
 * Each pass (every RecoveryPollSeconds = 1 s, orchestrator's constant; 200 ms while something looks suspicious):
 * analysis of this node's backend → emergent re-probes of suspicious masters and their replicas (orchestrator's
 * emergent operations: DeadMaster is confirmed within one probe instead of a poll interval) →
 * for each entry of a recoverable family (DeadMaster, DeadIntermediateMaster, DeadCoMaster and their variants;
 * Gate.detectionCodes): register the detection (replicated; OnFailureDetection hooks once per detection period) →
 * gates (core/recovery/Gate.ts: downtime, global switch, cluster filters, anti-flapping; blocked attempts are kept
 * for `blocked-recoveries`) → quorum agreement (raft mode, ExpectFailureAnalysisConcensus) → plan + execute in its
 * own fiber (the recovery orchestrator's getCheckAndRecoverFunction picks), one recovery per cluster at a time.
 *
 * Quorum-agreed detection: the leader asks each other raft node for its own analysis of the failed instance, over
 * HTTP (`/api/recovery-peer-analysis/:host/:port`, answered locally by every node, never forwarded), and
 * recovers only when a majority of the voters (itself included) sees it dead (a code of the same family). Peer URIs come from
 * ConsensusPeerHttpUris when set, else from the raft addresses (RaftNodes host + this node's listen port,
 * orchestrator's derivation) with leader-announced URIs taking precedence.
 */
import { Clock, Context, Data, Effect, Exit, FiberSet, Layer, Option, Ref, Scope } from "effect"
import { analyze } from "../core/analysis/Analyze.js"
import * as AnalysisJson from "../core/analysis/AnalysisJson.js"
import type { AnalysisCode, ReplicationAnalysis } from "../core/analysis/ReplicationAnalysis.js"
import * as Snapshot from "../core/analysis/Snapshot.js"
import { Repository } from "../core/backend/Repository.js"
import { AppConfig } from "../core/config/AppConfig.js"
import { parseListenAddress } from "../core/config/OrchestratorConfig.js"
import { Leadership } from "../core/node/Leadership.js"
import { NodeIdentity } from "../core/node/NodeIdentity.js"
import { CommandLog } from "../core/ops/CommandLog.js"
import { Discovery } from "../core/discovery/Discovery.js"
import { runHooks } from "../core/recovery/Executor.js"
import { agreeingCodes, detectionCodes, gate, quorumOf } from "../core/recovery/Gate.js"
import { blockSeconds, hookValuesFor, recoverAnalysis, resumeRecovery } from "../core/recovery/Recover.js"
import * as Key from "../core/topology/InstanceKey.js"
import { LeaderUris } from "./raft/RaftServices.js"

export interface BlockedRecovery {
  readonly key: { readonly hostname: string; readonly port: number }
  readonly clusterName: string
  readonly analysis: string
  readonly lastBlockedAt: number
  readonly blockingRecoveryId: number
  readonly reason: string
}

export class ClusterBusy extends Data.TaggedError("ClusterBusy")<{ readonly clusterName: string }> {
  override get message(): string {
    return `a recovery of ${this.clusterName} is already running`
  }
}

export class Recoveries extends Context.Tag("orchestrator/Recoveries")<Recoveries, {
  /** Automated attempts refused by anti-flapping or by missing quorum (orchestrator blocked_topology_recovery; leader-local). */
  readonly blocked: Effect.Effect<ReadonlyArray<BlockedRecovery>>
  /** Clusters with a recovery running on this node. */
  readonly running: Effect.Effect<ReadonlyArray<string>>
  /** Runs `effect` as the only recovery of `cluster` on this node, or fails with ClusterBusy. */
  readonly exclusive: <A, E, R>(cluster: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ClusterBusy, R>
  /** Other nodes that see `key` failed as `code` does (quorum-agreed detection), and how many are needed. */
  readonly agreement: (key: Key.InstanceKey, code: AnalysisCode) => Effect.Effect<{ readonly agreeing: number; readonly needed: number; readonly asked: number }>
}>() {}

/** Codes whose master and replicas are re-probed at once (orchestrator's emergent operations). */
const emergentCodes: ReadonlySet<string> = new Set<AnalysisCode>([
  "UnreachableMaster",
  "UnreachableMasterWithLaggingReplicas",
  "DeadMasterAndReplicas",
  "AllMasterReplicasNotReplicating",
  "AllMasterReplicasNotReplicatingOrDead",
  "FirstTierReplicaFailingToConnectToMaster",
  "MasterSingleReplicaNotReplicating",
  "MasterSingleReplicaDead",
  "UnreachableIntermediateMaster",
  "DeadIntermediateMasterAndReplicas"
])

/** HTTP URIs of the other raft nodes. */
export const peerUris = (
  c: AppConfig["Type"],
  self: string,
  announced: ReadonlyMap<string, string>
): ReadonlyArray<string> => {
  if (c.ConsensusPeerHttpUris.length > 0) return c.ConsensusPeerHttpUris
  const { port } = parseListenAddress(c.ListenAddress)
  return c.RaftNodes.filter((n) => n !== self).map((n) => announced.get(n) ?? `http://${n.replace(/:[0-9]+$/, "")}:${port}`)
}

const askPeer = (uri: string, prefix: string, key: Key.InstanceKey, agreeing: ReadonlySet<string>) =>
  Effect.tryPromise(async (signal) => {
    const url = `${uri.replace(/\/+$/, "")}${prefix}/api/recovery-peer-analysis/${encodeURIComponent(key.hostname)}/${key.port}`
    const r = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(1500)]) })
    const body = (await r.json()) as { readonly Details?: { readonly Analysis?: unknown } }
    return typeof body.Details?.Analysis === "string" && agreeing.has(body.Details.Analysis)
  }).pipe(Effect.orElseSucceed(() => false))

export const make = Effect.gen(function*() {
  const leadership = yield* Leadership
  const config = yield* AppConfig
  const id = yield* NodeIdentity
  const repo = yield* Repository
  const log = yield* CommandLog
  const uris = yield* Effect.serviceOption(LeaderUris)
  const blocked = yield* Ref.make<ReadonlyArray<BlockedRecovery>>([])
  const running = yield* Ref.make<ReadonlySet<string>>(new Set())

  const exclusive = <A, E, R>(cluster: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | ClusterBusy, R> =>
    Effect.acquireUseRelease(
      Ref.modify(running, (s) => (s.has(cluster) ? [false, s] : [true, new Set([...s, cluster])])),
      (acquired): Effect.Effect<A, E | ClusterBusy, R> => (acquired ? effect : Effect.fail(new ClusterBusy({ clusterName: cluster }))),
      (acquired) => (acquired ? Ref.update(running, (s) => new Set([...s].filter((x) => x !== cluster))) : Effect.void)
    )

  const agreement = (key: Key.InstanceKey, code: AnalysisCode) =>
    Effect.gen(function*() {
      const announced = Option.isSome(uris) ? yield* Ref.get(uris.value) : new Map<string, string>()
      const peers = peerUris(config, id.nodeId, announced)
      const agreeing: ReadonlySet<string> = agreeingCodes(code)
      const votes = yield* Effect.forEach(peers, (u) => askPeer(u, config.URLPrefix.replace(/\/+$/, ""), key, agreeing), { concurrency: "unbounded" })
      return { agreeing: votes.filter(Boolean).length, needed: quorumOf(peers.length + 1) - 1, asked: peers.length }
    })

  const block = (a: ReplicationAnalysis, reason: string, blockingRecoveryId: number) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const entry: BlockedRecovery = {
        key: { hostname: a.analyzedInstanceKey.hostname, port: a.analyzedInstanceKey.port },
        clusterName: a.clusterDetails.clusterName,
        analysis: a.analysis,
        lastBlockedAt: now,
        blockingRecoveryId,
        reason
      }
      yield* Ref.update(blocked, (list) => [entry, ...list.filter((b) => Key.format(Key.unsafeMake(b.key.hostname, b.key.port)) !== Key.format(a.analyzedInstanceKey))].slice(0, 1000))
    })

  /** Registers the detection once per FailureDetectionPeriodBlockMinutes; runs OnFailureDetection when new. Returns false when its hook failed. */
  const registerDetection = (a: ReplicationAnalysis) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const periodMs = config.FailureDetectionPeriodBlockMinutes * 60_000
      const recent = yield* repo.readFailureDetections(200, 0)
      const existing = recent.find((d) =>
        d.key.hostname === a.analyzedInstanceKey.hostname && d.key.port === a.analyzedInstanceKey.port &&
        d.inActivePeriod && d.isActionable === a.isActionableRecovery && now < d.startActivePeriod + periodMs
      )
      if (existing !== undefined) return { ok: true, id: existing.id }
      yield* log.propose({
        _tag: "register-failure-detection",
        record: {
          key: { hostname: a.analyzedInstanceKey.hostname, port: a.analyzedInstanceKey.port },
          analysis: a.analysis,
          clusterName: a.clusterDetails.clusterName,
          clusterAlias: a.clusterDetails.clusterAlias,
          isActionable: a.isActionableRecovery,
          inActivePeriod: true,
          startActivePeriod: now,
          endActivePeriodUnixtime: now + periodMs,
          processingNodeHostname: id.hostname,
          processingNodeToken: id.token,
          countAffectedReplicas: a.countReplicas,
          replicaHosts: a.replicas.map(Key.format).join(","),
          analysisEntry: JSON.stringify(AnalysisJson.encode(a))
        }
      })
      const after = yield* repo.readFailureDetections(20, 0)
      const detectionId = after.find((d) => d.key.hostname === a.analyzedInstanceKey.hostname && d.key.port === a.analyzedInstanceKey.port)?.id ?? 0
      const failures = yield* runHooks("", "OnFailureDetection", {
        ...hookValuesFor(a, "", id.hostname),
        recoveryUid: "",
        isSuccessful: false,
        successor: null,
        lostReplicas: []
      }, 60_000).pipe(Effect.provideService(CommandLog, { ...log, propose: (op) => op._tag === "write-recovery-step" ? Effect.as(Effect.logInfo(op.message), []) : log.propose(op) }))
      return { ok: failures.length === 0, id: detectionId }
    })

  const discovery = yield* Discovery
  const lastExpedited = new Map<string, number>()
  /** Re-probes each key at most once a second (a hung server must not be hammered). */
  const expediteOnce = (keys: ReadonlyArray<Key.InstanceKey>, now: number) => {
    const due = keys.filter((k) => now - (lastExpedited.get(Key.format(k)) ?? 0) >= 1000)
    for (const k of due) lastExpedited.set(Key.format(k), now)
    if (lastExpedited.size > 10_000) lastExpedited.clear()
    return due.length === 0 ? Effect.void : discovery.expedite(due)
  }

  const leaderLoop = Effect.gen(function*() {
    const fibers = yield* FiberSet.make()
    // A new leader first finishes what a previous one left unfinished (orchestrator issue #1296).
    const unfinished = (yield* repo.readRecoveries(100, 0)).filter((r) => r.endRecovery === null && !r.acknowledged)
    for (const r of unfinished) {
      yield* FiberSet.run(fibers, exclusive(r.clusterName, resumeRecovery(r)).pipe(
        Effect.tapErrorCause((c) => Effect.logError("recovery: resume failed", { uid: r.uid }, c))
      ))
    }
    const pass = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const snapshot = yield* Snapshot.readWithConfig(config, { processingNode: { hostname: id.hostname, token: id.token } })
      const all = analyze(snapshot, { includeDowntimed: true, includeNoProblem: true })
      // orchestrator's emergent operations (executeCheckAndRecoverFunction step 1): a suspicious master or replica
      // gets its master and replicas re-probed now, so DeadMaster is confirmed within a probe, not a poll interval.
      // A replica that reports it lost its master is the earliest sign (issue 4 item 2): re-probe that master now —
      // a master, an intermediate master or a co-master alike.
      const suspects = all.filter((a) => emergentCodes.has(a.analysis) || a.countReplicasFailingToConnectToMaster > 0)
      yield* expediteOnce(suspects.flatMap((a) => [a.analyzedInstanceKey, ...(a.analyzedInstanceMasterKey === null ? [] : [a.analyzedInstanceMasterKey]), ...a.replicas]), now)
      const entries = all.filter((a) => detectionCodes.has(a.analysis))
      if (entries.length === 0) return suspects.length > 0
      const busy = yield* Ref.get(running)
      const recoveries = yield* repo.readRecoveries(200, 0)
      const disabled = yield* repo.isGlobalRecoveriesDisabled
      for (const a of entries) {
        if (busy.has(a.clusterDetails.clusterName)) continue
        const detection = yield* registerDetection(a)
        if (!detection.ok) continue
        const verdict = gate({
          analysis: a,
          recoveries,
          globallyDisabled: disabled,
          now,
          policy: {
            recoverMasterClusterFilters: config.RecoverMasterClusterFilters,
            recoverIntermediateMasterClusterFilters: config.RecoverIntermediateMasterClusterFilters,
            recoveryPeriodBlockSeconds: blockSeconds(config)
          }
        })
        if (verdict._tag === "Blocked") yield* block(a, verdict.reason, verdict.blockingRecoveryId)
        if (verdict._tag !== "Proceed") continue
        let agreeing = 0
        if (leadership.raftEnabled && config.ExpectFailureAnalysisConcensus) {
          const q = yield* agreement(a.analyzedInstanceKey, a.analysis)
          agreeing = q.agreeing
          if (q.agreeing < q.needed) {
            yield* block(a, `quorum: ${q.agreeing + 1} of ${q.asked + 1} nodes see ${Key.format(a.analyzedInstanceKey)} dead, ${q.needed + 1} needed`, 0)
            continue
          }
        }
        const entry: ReplicationAnalysis = { ...a, countAdditionalAgreeingNodes: agreeing }
        yield* FiberSet.run(fibers, exclusive(a.clusterDetails.clusterName, recoverAnalysis(entry, {
          requested: null,
          runHooks: true,
          command: "",
          detectionId: detection.id
        })).pipe(
          Effect.tap((o) => Effect.logInfo("recovery: finished", o._tag === "Done" ? { uid: o.uid, successful: o.result.successful } : { notAttempted: o.reason })),
          Effect.tapErrorCause((c) => Effect.logError("recovery: failed", c))
        ))
      }
      return true
    })
    // RecoveryPollSeconds = 1 (orchestrator); 200 ms while something looks suspicious, to confirm it quickly.
    yield* Effect.forever(Effect.flatMap(
      pass.pipe(Effect.catchAllCause((c) => Effect.as(Effect.logWarning("recovery: pass failed", c), false))),
      (suspicious) => Effect.sleep(suspicious ? "200 millis" : "1 second")
    ))
  })

  // The leadership watcher: the loop lives in a scope that exists only while this node leads.
  yield* Effect.forkScoped(Effect.gen(function*() {
    let scope: Scope.CloseableScope | undefined
    yield* Effect.addFinalizer(() => (scope === undefined ? Effect.void : Scope.close(scope, Exit.void)))
    for (;;) {
      const leading = yield* leadership.isLeader
      if (leading && scope === undefined) {
        scope = yield* Scope.make()
        yield* Effect.forkIn(Scope.extend(leaderLoop, scope), scope)
        yield* Effect.logInfo("recovery: leading, recovery loop started")
      } else if (!leading && scope !== undefined) {
        yield* Scope.close(scope, Exit.void)
        scope = undefined
        yield* Effect.logInfo("recovery: not leading, recovery loop stopped")
      }
      yield* Effect.sleep("100 millis")
    }
  }).pipe(Effect.scoped))

  return Recoveries.of({
    blocked: Ref.get(blocked),
    running: Effect.map(Ref.get(running), (s) => [...s]),
    exclusive,
    agreement
  })
})

/** The recovery service; needs TopologySql, HookRunner and Discovery besides the node's services. */
export const layer = Layer.scoped(Recoveries, make)
