/**
 * The leader-only recovery loop (design.md "Recoverer: LEADER ONLY"). A watcher opens a scope when this node
 * gains leadership and closes it when it loses it (its raft role changes; not when its lease lapses for a moment
 * under load: `watcherStep`), so every recovery fiber is interrupted at once on a leadership loss; every step is
 * audited through raft before it runs, so a deposed leader stops at its next step. The next leader first applies
 * everything committed before its term (ReadIndex), then resumes unfinished recoveries from their audited plans
 * (core/recovery/Executor.ts `resumePoint`).
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
import { Clock, Context, Data, Deferred, Effect, Exit, FiberSet, Layer, Option, Ref, Scope } from "effect"
import { analyze } from "../core/analysis/Analyze.js"
import * as AnalysisJson from "../core/analysis/AnalysisJson.js"
import type { AnalysisCode, ReplicationAnalysis } from "../core/analysis/ReplicationAnalysis.js"
import * as Snapshot from "../core/analysis/Snapshot.js"
import { type Recovery, Repository } from "../core/backend/Repository.js"
import { AppConfig } from "../core/config/AppConfig.js"
import { parseListenAddress } from "../core/config/OrchestratorConfig.js"
import { Leadership, type RaftState } from "../core/node/Leadership.js"
import { NodeIdentity } from "../core/node/NodeIdentity.js"
import { CommandLog } from "../core/ops/CommandLog.js"
import { Discovery } from "../core/discovery/Discovery.js"
import { TopologySql } from "../core/discovery/TopologySql.js"
import { runHooks } from "../core/recovery/Executor.js"
import { agreeingCodes, detectionCodes, gate, genericCodes, quorumOf } from "../core/recovery/Gate.js"
import { blockSeconds, hookValuesFor, recoverAnalysis, resumeRecovery } from "../core/recovery/Recover.js"
import * as Control from "../core/topology/Control.js"
import type { Instance } from "../core/topology/Instance.js"
import * as Model from "../core/topology/Instance.js"
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
  /** Other nodes that see `key` failed as `code` does (quorum-agreed detection), how many are needed, of how many voters. */
  readonly agreement: (key: Key.InstanceKey, code: AnalysisCode) => Effect.Effect<{
    readonly agreeing: number
    readonly needed: number
    readonly asked: number
    readonly voters: number
    readonly votes: ReadonlyArray<PeerVote>
  }>
}>() {}

/**
 * The leadership watcher's decision, pure. The loop starts when this node is the raft leader with a valid lease,
 * and stops when it is no longer the raft leader (its role changed: a higher term was seen, or checkQuorum made it
 * step down). A lease that lapses for a moment while the node stays leader — heartbeat answers late on a loaded
 * machine — is not a loss of leadership: closing the scope then would interrupt every recovery midway, again and
 * again, and no recovery would finish under load. A deposed leader still cannot change MySQL state for long: each
 * step is audited through raft first (a write that cannot commit stops the executor), new recoveries are only
 * started after a lease or ReadIndex check, and checkQuorum demotes a leader cut off from the majority within an
 * election timeout.
 */
export const watcherStep = (running: boolean, role: RaftState, leased: boolean): "start" | "stop" | "keep" =>
  running ? (role === "Leader" ? "keep" : "stop") : role === "Leader" && leased ? "start" : "keep"

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

/**
 * orchestrator's `emergentlyRestartReplicationOnTopologyInstanceReplicas`: an unreachable master (or intermediate
 * master) whose replicas all lag gets their IO threads restarted, so each replica reconnects and says whether it
 * can still reach it. Not on MariaDB GTID replicas: restarting the IO thread there drops the relay logs.
 */
const laggingCodes: ReadonlySet<string> = new Set<AnalysisCode>([
  "UnreachableMasterWithLaggingReplicas",
  "UnreachableIntermediateMasterWithLaggingReplicas"
])
/** orchestrator: a replica's emergency restart is not repeated within 30 s... */
const EMERGENT_RESTART_THROTTLE_MS = 30_000
/** ...and a master whose replicas were restarted is not failed over for 5 s (they briefly show "Connecting"). */
const EMERGENCY_GRACE_MS = 5_000

/** HTTP URIs of the other raft nodes, as configured or derived (may name this node: see `quorumPeers`). */
export const peerUris = (
  c: AppConfig["Type"],
  self: string,
  announced: ReadonlyMap<string, string>
): ReadonlyArray<string> => {
  if (c.ConsensusPeerHttpUris.length > 0) return c.ConsensusPeerHttpUris
  const { port } = parseListenAddress(c.ListenAddress)
  return c.RaftNodes.filter((n) => n !== self).map((n) => announced.get(n) ?? `http://${n.replace(/:[0-9]+$/, "")}:${port}`)
}

const normalizeUri = (u: string) => u.trim().replace(/\/+$/, "")

/**
 * The peers to ask and the number of voters whose majority must see the failure. A URI naming this node is
 * dropped: the derivation (RaftNodes host + this node's own listen port) gives this node's URI for every peer
 * on its host, and a ConsensusPeerHttpUris listing every node names it too; counting its own answer again
 * would let one node make a quorum alone. The voters are at least RaftNodes, so a peer that cannot be
 * named (or answers nothing) counts as disagreeing, never as absent.
 */
export const quorumPeers = (
  c: AppConfig["Type"],
  self: { readonly nodeId: string; readonly httpUri: string },
  announced: ReadonlyMap<string, string>
): { readonly peers: ReadonlyArray<string>; readonly voters: number } => {
  const own = normalizeUri(self.httpUri)
  const peers = [...new Set(peerUris(c, self.nodeId, announced).map(normalizeUri))].filter((u) => u !== "" && u !== own)
  return { peers, voters: Math.max(peers.length + 1, c.RaftNodes.length) }
}

/** One peer's answer in a quorum round. */
export interface PeerVote {
  readonly uri: string
  readonly agrees: boolean
  /** The peer's own analysis code, or why there is none ("no answer: ..."). */
  readonly seen: string
}

/** How long a peer may take to answer (its answer is one analysis of its own backend; more under load). */
const PEER_TIMEOUT_MS = 3000
/**
 * How long a peer's agreeing answer counts. A peer that answered "dead" a moment ago is not asked again (less load
 * on a struggling cluster), and a slow peer's earlier answer still counts when the next pass's answer times out.
 */
export const VOTE_TTL_MS = 5000

const askPeer = (uri: string, prefix: string, key: Key.InstanceKey, agreeing: ReadonlySet<string>): Effect.Effect<PeerVote> =>
  Effect.tryPromise(async (signal): Promise<PeerVote> => {
    const url = `${uri}${prefix}/api/recovery-peer-analysis/${encodeURIComponent(key.hostname)}/${key.port}`
    const r = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_TIMEOUT_MS)]) })
    if (!r.ok) {
      await r.arrayBuffer()
      return { uri, agrees: false, seen: `no answer: HTTP ${r.status}` }
    }
    const body = (await r.json()) as { readonly Details?: { readonly Analysis?: unknown } | null }
    const code = body.Details?.Analysis
    return typeof code === "string"
      ? { uri, agrees: agreeing.has(code), seen: code }
      : { uri, agrees: false, seen: "no analysis of it" }
  }).pipe(Effect.catchAll((e) => {
    const cause: unknown = e.cause
    const why = cause instanceof Error ? (cause.name === "TimeoutError" ? `timeout ${PEER_TIMEOUT_MS} ms` : cause.message) : String(cause)
    return Effect.succeed<PeerVote>({ uri, agrees: false, seen: `no answer: ${why}` })
  }))

export const make = Effect.gen(function*() {
  const leadership = yield* Leadership
  const config = yield* AppConfig
  const id = yield* NodeIdentity
  const repo = yield* Repository
  const log = yield* CommandLog
  const uris = yield* Effect.serviceOption(LeaderUris)
  const blocked = yield* Ref.make<ReadonlyArray<BlockedRecovery>>([])
  const running = yield* Ref.make<ReadonlySet<string>>(new Set())

  /** Marks `cluster` as having a recovery running here; false when it already has one. */
  const claim = (cluster: string) => Ref.modify(running, (s) => (s.has(cluster) ? [false, s] : [true, new Set([...s, cluster])]))
  const release = (cluster: string) => Ref.update(running, (s) => new Set([...s].filter((x) => x !== cluster)))

  const exclusive = <A, E, R>(cluster: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | ClusterBusy, R> =>
    Effect.acquireUseRelease(
      claim(cluster),
      (acquired): Effect.Effect<A, E | ClusterBusy, R> => (acquired ? effect : Effect.fail(new ClusterBusy({ clusterName: cluster }))),
      (acquired) => (acquired ? release(cluster) : Effect.void)
    )

  /** `peer instance family` → when that peer last agreed (VOTE_TTL_MS). */
  const recentVotes = new Map<string, number>()
  /**
   * Asks the peers concurrently and stops as soon as enough agree (a dead or slow peer does not hold the round
   * once the others made the majority); peers that agreed within VOTE_TTL_MS are counted without asking.
   */
  const agreement = (key: Key.InstanceKey, code: AnalysisCode) =>
    Effect.gen(function*() {
      const announced = Option.isSome(uris) ? yield* Ref.get(uris.value) : new Map<string, string>()
      const { peers, voters } = quorumPeers(config, id, announced)
      const needed = quorumOf(voters) - 1
      const agreeing: ReadonlySet<string> = agreeingCodes(code)
      const family = [...agreeing].sort().join(",")
      const voteKey = (u: string) => `${u} ${Key.format(key)} ${family}`
      const now = yield* Clock.currentTimeMillis
      if (recentVotes.size > 10_000) recentVotes.clear()
      const votes: Array<PeerVote> = peers
        .filter((u) => now - (recentVotes.get(voteKey(u)) ?? -Infinity) <= VOTE_TTL_MS)
        .map((uri) => ({ uri, agrees: true, seen: "agreed recently" }))
      const count = () => votes.filter((v) => v.agrees).length
      if (count() < needed) {
        const enough = yield* Deferred.make<void>()
        const prefix = config.URLPrefix.replace(/\/+$/, "")
        const ask = Effect.forEach(peers.filter((u) => !votes.some((v) => v.uri === u)), (u) =>
          Effect.flatMap(askPeer(u, prefix, key, agreeing), (v) =>
            Effect.gen(function*() {
              votes.push(v)
              if (!v.agrees) return
              recentVotes.set(voteKey(u), yield* Clock.currentTimeMillis)
              if (count() >= needed) yield* Deferred.succeed(enough, undefined)
            })), { concurrency: "unbounded", discard: true })
        yield* Effect.raceFirst(ask, Deferred.await(enough))
      }
      return { agreeing: count(), needed, asked: peers.length, voters, votes: [...votes] }
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
  const topologySql = yield* TopologySql
  const restartScope = yield* Effect.scope
  const lastExpedited = new Map<string, number>()
  /** Re-probes each key at most once a second (a hung server must not be hammered). */
  const expediteOnce = (keys: ReadonlyArray<Key.InstanceKey>, now: number) => {
    const due = keys.filter((k) => now - (lastExpedited.get(Key.format(k)) ?? 0) >= 1000)
    for (const k of due) lastExpedited.set(Key.format(k), now)
    if (lastExpedited.size > 10_000) lastExpedited.clear()
    return due.length === 0 ? Effect.void : discovery.expedite(due)
  }

  const restartedAt = new Map<string, number>()
  const emergencyGrace = new Map<string, number>()
  const emergentRestarts = (lagging: ReadonlyArray<ReplicationAnalysis>, instances: ReadonlyArray<Instance>, now: number) =>
    Effect.gen(function*() {
      const byKey = new Map(instances.map((i) => [Key.format(i.key), i]))
      for (const a of lagging) {
        const masterId = Key.format(a.analyzedInstanceKey)
        if (now - (restartedAt.get(masterId) ?? 0) < EMERGENT_RESTART_THROTTLE_MS) continue
        restartedAt.set(masterId, now)
        emergencyGrace.set(masterId, now + EMERGENCY_GRACE_MS)
        for (const k of a.replicas) {
          const replica = byKey.get(Key.format(k))
          const id = Key.format(k)
          if (replica === undefined || Model.usingMariaDbGtid(replica) || now - (restartedAt.get(id) ?? 0) < EMERGENT_RESTART_THROTTLE_MS) continue
          restartedAt.set(id, now)
          const syntax = Control.syntaxOf(replica)
          yield* topologySql.execute(k, Control.script([Control.stopReplication(syntax, "IO_THREAD"), Control.startReplication(syntax, "IO_THREAD")])).pipe(
            Effect.tap(() => Effect.logInfo("recovery: emergently restarted replication", { instance: id, analysis: a.analysis })),
            Effect.catchAll((e) => Effect.logWarning("recovery: emergent restart failed", { instance: id }, e.message)),
            Effect.forkIn(restartScope)
          )
        }
      }
      if (restartedAt.size > 10_000) restartedAt.clear()
      for (const [id, until] of emergencyGrace) if (until <= now) emergencyGrace.delete(id)
    })

  const leaderLoop = Effect.gen(function*() {
    const fibers = yield* FiberSet.make()
    /** Generic-code detections being registered (their fibers run beside the pass). */
    const registering = new Set<string>()
    // Everything committed in earlier terms must be applied here before the backend is read: a new raft leader
    // can hold its lease before its own term has committed anything, and a recovery record its predecessor
    // wrote last would then be missing — neither resumed nor blocking, with a fresh recovery started beside it.
    while (!(yield* leadership.confirm.pipe(Effect.timeout("5 seconds"), Effect.orElseSucceed(() => false)))) {
      yield* Effect.sleep("100 millis")
    }
    // A new leader first finishes what a previous one left unfinished (orchestrator issue #1296): oldest first,
    // one fiber per cluster, the cluster claimed before the fiber starts so that the first analysis pass (which
    // skips busy clusters) cannot start a fresh recovery beside the resumed one, and a second unfinished
    // recovery of the same cluster is resumed after the first instead of failing with ClusterBusy.
    const unfinished = (yield* repo.readRecoveries(100, 0)).filter((r) => r.endRecovery === null && !r.acknowledged)
    const byCluster = new Map<string, Array<Recovery>>()
    for (const r of [...unfinished].sort((a, b) => a.id - b.id)) byCluster.set(r.clusterName, [...(byCluster.get(r.clusterName) ?? []), r])
    for (const [cluster, list] of byCluster) {
      if (!(yield* claim(cluster))) continue
      yield* FiberSet.run(fibers, Effect.forEach(list, (r) =>
        resumeRecovery(r).pipe(
          Effect.tap((res) => Effect.logInfo("recovery: resumed", { uid: r.uid, successful: res?.successful ?? false })),
          Effect.catchAllCause((c) => Effect.logError("recovery: resume failed", { uid: r.uid }, c))
        ), { discard: true }).pipe(Effect.ensuring(release(cluster))))
    }
    /** Whether this node still leads now: its lease, else a ReadIndex round (the lease may just have lapsed). */
    const stillLeading = Effect.flatMap(leadership.isLeader, (leased) =>
      leased ? Effect.succeed(true) : leadership.confirm.pipe(Effect.timeout("2 seconds"), Effect.orElseSucceed(() => false)))
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
      // Restarts change MySQL state: the leader only (orchestrator runs them on every node).
      const lagging = all.filter((a) => laggingCodes.has(a.analysis))
      if (lagging.length > 0 && (yield* leadership.isLeader)) yield* emergentRestarts(lagging, [...snapshot.instances.values()], now)
      const entries = all.filter((a) => detectionCodes.has(a.analysis))
      // A master with replicas whose probe fails or hangs is not a failure yet (its replicas may still see it),
      // but the next pass should come in 200 ms, not 1 s: a hung master's replicas report losing it only when
      // their own read times out (slave_net_timeout), and that moment should not wait for a 1 s pass.
      if (entries.length === 0) return suspects.length > 0 || all.some((a) => !a.lastCheckValid && a.countReplicas > 0)
      // Detections and new recoveries only while this node verifiably leads (running ones go on: see watcherStep).
      if (!(yield* stillLeading)) return true
      const busy = yield* Ref.get(running)
      const recoveries = yield* repo.readRecoveries(200, 0)
      const disabled = yield* repo.isGlobalRecoveriesDisabled
      for (const entry of entries) {
        if (busy.has(entry.clusterDetails.clusterName)) continue
        // orchestrator's emergency graceful period: within 5 s of restarting its replicas, a DeadMaster is generic.
        const graceful = (emergencyGrace.get(Key.format(entry.analyzedInstanceKey)) ?? 0) > now &&
          (entry.analysis === "DeadMaster" || entry.analysis === "DeadMasterAndSomeReplicas")
        const a: ReplicationAnalysis = graceful ? { ...entry, isActionableRecovery: false } : entry
        if (graceful || genericCodes.has(a.analysis)) {
          // orchestrator's checkAndRecoverGenericProblem: detection and its hooks only, in a fiber of its own (as
          // orchestrator's goroutine per entry) so a slow OnFailureDetection hook never delays a failover.
          const id = `${Key.format(a.analyzedInstanceKey)} ${a.analysis}`
          if (registering.has(id)) continue
          registering.add(id)
          yield* FiberSet.run(fibers, registerDetection(a).pipe(
            Effect.catchAllCause((c) => Effect.logWarning("recovery: cannot register detection", { instance: id }, c)),
            Effect.ensuring(Effect.sync(() => registering.delete(id)))
          ))
          continue
        }
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
            const peers = q.votes.map((v) => `${v.uri} ${v.seen}`).join(", ")
            yield* block(a, `quorum: ${q.agreeing + 1} of ${q.voters} nodes see ${Key.format(a.analyzedInstanceKey)} dead, ${q.needed + 1} needed (peers: ${peers === "" ? "none known" : peers})`, 0)
            continue
          }
        }
        const agreed: ReplicationAnalysis = { ...a, countAdditionalAgreeingNodes: agreeing }
        yield* FiberSet.run(fibers, exclusive(a.clusterDetails.clusterName, recoverAnalysis(agreed, {
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

  // The leadership watcher: the loop lives in a scope that exists only while this node leads (watcherStep).
  yield* Effect.forkScoped(Effect.gen(function*() {
    let scope: Scope.CloseableScope | undefined
    yield* Effect.addFinalizer(() => (scope === undefined ? Effect.void : Scope.close(scope, Exit.void)))
    for (;;) {
      const role = yield* leadership.state
      const leased = scope === undefined && role === "Leader" ? yield* leadership.isLeader : false
      const step = watcherStep(scope !== undefined, role, leased)
      if (step === "start") {
        scope = yield* Scope.make()
        yield* Effect.forkIn(Scope.extend(leaderLoop, scope), scope)
        yield* Effect.logInfo("recovery: leading, recovery loop started")
      } else if (step === "stop" && scope !== undefined) {
        yield* Scope.close(scope, Exit.void)
        scope = undefined
        yield* Effect.logInfo(`recovery: not leading (${role}), recovery loop stopped`)
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
