/**
 * One recovery, end to end, as the leader runs it: plan (pure) → recovery record (`write-recovery`) → plan in
 * the audit → execute → `resolve-recovery`. Also: resuming a recovery a previous leader left unfinished, and
 * the graceful takeover and refactoring operations (same plan/executor machinery, no detection).
 */
import { Clock, Effect, Either } from "effect"
import * as AnalysisJson from "../analysis/AnalysisJson.js"
import { analysisInstanceType, type ReplicationAnalysis } from "../analysis/ReplicationAnalysis.js"
import * as Snapshot from "../analysis/Snapshot.js"
import { type Recovery, Repository } from "../backend/Repository.js"
import { AppConfig } from "../config/AppConfig.js"
import type { OrchestratorConfig } from "../config/OrchestratorConfig.js"
import { NodeIdentity } from "../node/NodeIdentity.js"
import { CommandLog } from "../ops/CommandLog.js"
import * as Model from "../topology/Instance.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import * as Key from "../topology/InstanceKey.js"
import { audit, execute, type ExecutionInput, type ExecutionResult, ExecutorError, planMessage, resumePoint } from "./Executor.js"
import type { HookValues } from "./Hooks.js"
import { coMasterCodes, intermediateMasterCodes } from "./Gate.js"
import {
  defaultRecoveryPolicy,
  planDeadCoMaster,
  planDeadIntermediateMaster,
  planDeadMaster,
  type PlanRefused,
  type RecoveryPolicy
} from "./Plan.js"
import { keyString, type Plan } from "./Step.js"

/** The recovery policy from the configuration. */
export const recoveryPolicy = (c: OrchestratorConfig, runHooks = true): RecoveryPolicy => ({
  ...defaultRecoveryPolicy,
  runHooks,
  applyMySQLPromotion: c.ApplyMySQLPromotionAfterMasterFailover,
  detachLostReplicas: c.DetachLostReplicasAfterMasterFailover || c.DetachLostSlavesAfterMasterFailover,
  gracefulWaitSeconds: c.ReasonableMaintenanceReplicationLagSeconds,
  failPromotionOnLagSeconds: c.FailMasterPromotionOnLagMinutes * 60,
  detachPromotedMasterHost: c.MasterFailoverDetachReplicaMasterHost,
  promotion: Snapshot.promotionPolicy(c)
})

export const blockSeconds = (c: OrchestratorConfig): number =>
  c.RecoveryPeriodBlockSeconds > 0 ? c.RecoveryPeriodBlockSeconds : c.RecoveryPeriodBlockMinutes * 60

const ckey = (k: { readonly hostname: string; readonly port: number }) => ({ hostname: k.hostname, port: k.port })

/** Hook values known at detection time (orchestrator's TopologyRecovery fields). */
export const hookValuesFor = (a: ReplicationAnalysis, command: string, orchestratorHost: string): Omit<HookValues, "successor" | "lostReplicas" | "isSuccessful" | "recoveryUid"> => ({
  failureType: a.analysis,
  instanceType: analysisInstanceType(a),
  isMaster: a.isMaster,
  isCoMaster: a.isCoMaster,
  failureDescription: a.description,
  command,
  failedHost: a.analyzedInstanceKey.hostname,
  failedPort: a.analyzedInstanceKey.port,
  failureCluster: a.clusterDetails.clusterName,
  failureClusterAlias: a.clusterDetails.clusterAlias,
  failureClusterDomain: a.clusterDetails.clusterDomain,
  countReplicas: a.countReplicas,
  isDowntimed: a.isDowntimed,
  autoMasterRecovery: a.clusterDetails.hasAutomatedMasterRecovery,
  autoIntermediateMasterRecovery: a.clusterDetails.hasAutomatedIntermediateMasterRecovery,
  orchestratorHost,
  replicaHosts: a.replicas.map(Key.format)
})

const proposeOrFail = (op: Parameters<CommandLog["Type"]["propose"]>[0]) =>
  Effect.flatMap(CommandLog, (log) => log.propose(op)).pipe(
    Effect.mapError((e) => new ExecutorError({ reason: e.message, cause: e }))
  )

export interface Started {
  readonly uid: string
  readonly plan: Plan
}

/** Writes the recovery record and the plan (both replicated) for a plan about to run. */
export const startRecovery = (analysis: ReplicationAnalysis, plan: Plan, recoveryType: string, detectionId: number) =>
  Effect.gen(function*() {
    const id = yield* NodeIdentity
    const config = yield* AppConfig
    const now = yield* Clock.currentTimeMillis
    const uid = globalThis.crypto.randomUUID()
    yield* proposeOrFail({
      _tag: "write-recovery",
      record: {
        uid,
        key: ckey(analysis.analyzedInstanceKey),
        analysis: analysis.analysis,
        clusterName: analysis.clusterDetails.clusterName,
        clusterAlias: analysis.clusterDetails.clusterAlias,
        recoveryType,
        inActivePeriod: true,
        startActivePeriod: now,
        endActivePeriodUnixtime: now + blockSeconds(config) * 1000,
        processingNodeHostname: id.hostname,
        processingNodeToken: id.token,
        successorKey: null,
        successorAlias: "",
        isSuccessful: false,
        lostReplicas: "",
        participatingInstances: "",
        allErrors: "",
        lastDetectionId: detectionId,
        relatedRecoveryId: 0,
        analysisEntry: JSON.stringify(AnalysisJson.encode(analysis))
      }
    })
    yield* audit(uid, planMessage(plan, 0))
    for (const note of plan.notes) yield* audit(uid, note)
    return { uid, plan } satisfies Started
  })

/** `resolve-recovery` with the executor's result. */
export const resolve = (uid: string, r: ExecutionResult, extraErrors: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const participating = [...(r.successor === null ? [] : [r.successor]), ...r.plan.steps.flatMap((s) =>
      s.step._tag === "Repoint" ? s.step.replicas : []
    )]
    yield* proposeOrFail({
      _tag: "resolve-recovery",
      uid,
      result: {
        isSuccessful: r.successful,
        successorKey: r.successful && r.successor !== null ? r.successor : null,
        successorAlias: r.successful && r.successor !== null ? keyString(r.successor) : "",
        lostReplicas: r.lost.map(keyString).join(","),
        participatingInstances: participating.map(keyString).join(","),
        allErrors: [...r.errors, ...extraErrors].join("\n"),
        endRecovery: now
      }
    })
    yield* audit(uid, r.successful ? `recovery successful: ${r.successor === null ? "" : keyString(r.successor)}` : `recovery failed: ${r.errors.join("; ")}`)
  })

export interface RecoverOptions {
  readonly requested: InstanceKey | null
  readonly runHooks: boolean
  /** "" for automated recoveries; orchestrator's {command} otherwise. */
  readonly command: string
  readonly detectionId: number
}

export type RecoverOutcome =
  | { readonly _tag: "NotAttempted"; readonly reason: string }
  | { readonly _tag: "Done"; readonly uid: string; readonly result: ExecutionResult }

/** orchestrator's `TopologyRecovery.Type` of a plan kind. */
export const recoveryTypeOf = (kind: Plan["kind"]): string =>
  kind === "DeadIntermediateMaster" ? "IntermediateMasterRecovery" : kind === "DeadCoMaster" ? "CoMasterRecovery" : "MasterRecovery"

/** Records, executes and resolves a planned recovery (or reports why it was not attempted). */
const runRecovery = (analysis: ReplicationAnalysis, planned: Either.Either<Plan, PlanRefused>, policy: RecoveryPolicy, options: RecoverOptions) =>
  Effect.gen(function*() {
    const id = yield* NodeIdentity
    if (Either.isLeft(planned)) return { _tag: "NotAttempted", reason: planned.left.reason } satisfies RecoverOutcome
    const started = yield* startRecovery(analysis, planned.right, recoveryTypeOf(planned.right.kind), options.detectionId)
    const input: ExecutionInput = {
      uid: started.uid,
      plan: started.plan,
      from: 0,
      policy,
      hookValues: hookValuesFor(analysis, options.command, id.hostname)
    }
    const result = yield* execute(input)
    yield* resolve(started.uid, result)
    return { _tag: "Done", uid: started.uid, result } satisfies RecoverOutcome
  })

const readSnapshot = (config: OrchestratorConfig) =>
  Snapshot.readWithConfig(config).pipe(Effect.mapError((e) => new ExecutorError({ reason: e.message, cause: e })))

/** Dead master (and DeadMasterAndSomeReplicas) recovery: plan, record, execute, resolve. */
export const recoverDeadMaster = (analysis: ReplicationAnalysis, options: RecoverOptions) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const snapshot = yield* readSnapshot(config)
    const key = analysis.analyzedInstanceKey
    const policy = recoveryPolicy(config, options.runHooks)
    const planned = planDeadMaster({
      failedKey: key,
      clusterName: analysis.clusterDetails.clusterName,
      master: snapshot.instances.get(Key.format(key)) ?? null,
      replicas: Snapshot.replicasOf(snapshot, key),
      requested: options.requested,
      policy
    })
    return yield* runRecovery(analysis, planned, policy, options)
  })

/**
 * Dead intermediate master (DeadIntermediateMaster, DeadIntermediateMasterAndSomeReplicas,
 * DeadIntermediateMasterWithSingleReplicaFailingToConnect, AllIntermediateMasterReplicasFailingToConnectOrDead):
 * the replicas move below a sibling or the intermediate master's master. orchestrator takes no candidate here;
 * a requested one is ignored.
 */
export const recoverDeadIntermediateMaster = (analysis: ReplicationAnalysis, options: RecoverOptions) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const snapshot = yield* readSnapshot(config)
    const key = analysis.analyzedInstanceKey
    const policy = recoveryPolicy(config, options.runHooks)
    const planned = planDeadIntermediateMaster({
      failedKey: key,
      clusterName: analysis.clusterDetails.clusterName,
      intermediateMaster: snapshot.instances.get(Key.format(key)) ?? null,
      replicas: Snapshot.replicasOf(snapshot, key),
      all: [...snapshot.instances.values()],
      ruleOf: (k) => Snapshot.promotionRuleOf(snapshot, k),
      policy
    })
    return yield* runRecovery(analysis, planned, policy, options)
  })

/**
 * Dead co-master (DeadCoMaster, DeadCoMasterAndSomeReplicas): the other co-master is promoted (when it must be:
 * CoMasterRecoveryMustPromoteOtherCoMaster, or it is writable) and the dead one's replicas move below it.
 * orchestrator takes no candidate here; a requested one is ignored.
 */
export const recoverDeadCoMaster = (analysis: ReplicationAnalysis, options: RecoverOptions) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const snapshot = yield* readSnapshot(config)
    const key = analysis.analyzedInstanceKey
    const policy = recoveryPolicy(config, options.runHooks)
    const coMaster = snapshot.instances.get(Key.format(key)) ?? null
    const otherKey = analysis.analyzedInstanceMasterKey ?? (coMaster === null ? null : Model.masterKey(coMaster))
    const planned = planDeadCoMaster({
      failedKey: key,
      clusterName: analysis.clusterDetails.clusterName,
      coMaster,
      otherCoMaster: otherKey === null ? null : snapshot.instances.get(Key.format(otherKey)) ?? null,
      replicas: Snapshot.replicasOf(snapshot, key),
      mustPromoteOtherCoMaster: config.CoMasterRecoveryMustPromoteOtherCoMaster,
      policy
    })
    return yield* runRecovery(analysis, planned, policy, options)
  })

/** The recovery orchestrator's `getCheckAndRecoverFunction` picks for the analysis code (DeadMaster's otherwise). */
export const recoverAnalysis = (analysis: ReplicationAnalysis, options: RecoverOptions) =>
  intermediateMasterCodes.has(analysis.analysis)
    ? recoverDeadIntermediateMaster(analysis, options)
    : coMasterCodes.has(analysis.analysis)
    ? recoverDeadCoMaster(analysis, options)
    : recoverDeadMaster(analysis, options)

/** Runs an operation plan (graceful takeover, refactoring) with a recovery record when `analysis` is given. */
export const runPlan = (plan: Plan, hookValues: ExecutionInput["hookValues"], runHooks: boolean, record: { readonly analysis: ReplicationAnalysis; readonly recoveryType: string } | null) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const policy = recoveryPolicy(config, runHooks)
    if (record === null) {
      // Refactoring: no recovery record; the audit goes to the log only.
      return yield* execute({ uid: "", plan, from: 0, policy, hookValues }).pipe(
        Effect.provideService(CommandLog, yield* quietLog)
      )
    }
    const started = yield* startRecovery(record.analysis, plan, record.recoveryType, 0)
    const result = yield* execute({ uid: started.uid, plan, from: 0, policy, hookValues })
    yield* resolve(started.uid, result)
    return result
  })

/** A CommandLog that logs audit lines instead of replicating them, and passes every other op through. */
const quietLog = Effect.map(CommandLog, (log): CommandLog["Type"] => ({
  ...log,
  propose: (op) => op._tag === "write-recovery-step" ? Effect.as(Effect.logInfo(`refactoring: ${op.message}`), []) : log.propose(op)
}))

/**
 * A recovery left unresolved by a previous leader (or an earlier term of this one): resume its plan from the
 * first step not done. Without a plan (lost before planning) it is resolved as failed and acknowledged, so it
 * does not block the cluster (orchestrator issue #1296) — the next analysis pass starts a fresh recovery.
 */
export const resumeRecovery = (r: Recovery) =>
  Effect.gen(function*() {
    const repo = yield* Repository
    const config = yield* AppConfig
    const id = yield* NodeIdentity
    const steps = yield* repo.readRecoverySteps(r.uid).pipe(Effect.mapError((e) => new ExecutorError({ reason: e.message, cause: e })))
    const point = resumePoint(steps.map((s) => s.message))
    const now = yield* Clock.currentTimeMillis
    if (point === undefined) {
      yield* audit(r.uid, `abandoned before planning by ${r.processingNodeHostname} (token ${r.processingNodeToken}); resolved by ${id.hostname} (token ${id.token})`)
      yield* proposeOrFail({
        _tag: "resolve-recovery",
        uid: r.uid,
        result: { isSuccessful: false, successorKey: null, successorAlias: "", lostReplicas: "", participatingInstances: "", allErrors: "leader lost before planning", endRecovery: now }
      })
      yield* proposeOrFail({ _tag: "ack-recovery", filter: { _tag: "Uid", uid: r.uid }, by: id.hostname, comment: "abandoned before planning (leader change)", at: now })
      return undefined
    }
    // Nodes on one host share the hostname: the token says which process took over.
    yield* audit(r.uid, `resumed by ${id.hostname} (token ${id.token}) at step ${point.from + 1}/${point.plan.steps.length}`)
    const analysis = yield* Effect.try(() => JSON.parse(r.analysisEntry) as unknown).pipe(Effect.orElseSucceed(() => ({})))
    const a = typeof analysis === "object" && analysis !== null ? (analysis as Record<string, unknown>) : {}
    const str = (k: string) => (typeof a[k] === "string" ? (a[k] as string) : "")
    // The analysis entry recorded with the recovery says what failed (orchestrator's JSON keys).
    const isMaster = a["IsMaster"] === true || (a["IsMaster"] === undefined && point.plan.kind === "DeadMaster")
    const isCoMaster = a["IsCoMaster"] === true || (a["IsCoMaster"] === undefined && point.plan.kind === "DeadCoMaster")
    const result = yield* execute({
      uid: r.uid,
      plan: point.plan,
      from: point.from,
      policy: recoveryPolicy(config, true),
      hookValues: {
        failureType: r.analysis,
        instanceType: analysisInstanceType({ isMaster, isCoMaster, isReplicationGroupMember: false }),
        isMaster,
        isCoMaster,
        failureDescription: str("Description"),
        command: "",
        failedHost: r.key.hostname,
        failedPort: r.key.port,
        failureCluster: r.clusterName,
        failureClusterAlias: r.clusterAlias,
        failureClusterDomain: r.clusterName,
        countReplicas: 0,
        isDowntimed: false,
        autoMasterRecovery: point.plan.kind !== "DeadIntermediateMaster",
        autoIntermediateMasterRecovery: point.plan.kind === "DeadIntermediateMaster",
        orchestratorHost: id.hostname,
        replicaHosts: []
      }
    })
    yield* resolve(r.uid, result)
    return result
  })
