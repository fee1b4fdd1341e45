/**
 * Recovery planning, pure: (instances as last probed + the analysis + policy) → a `Plan` (core/recovery/Step.ts).
 *
 * orchestrator decides while it acts (go/logic/topology_recovery.go `recoverDeadMaster` passes a deciding,
 * mutating closure into `RegroupReplicasGTID`; style-models.md "deciding while doing"). Here a dead-master
 * recovery is planned in two pure phases separated by one observation:
 *
 *   planDeadMaster     → PreFailover hooks, drain every reachable replica's relay logs, `Decide`
 *   (the executor re-reads the drained replicas: positions are only comparable after draining, mariadb.md §5 gotcha 2)
 *   planPromotion      → candidate (core/analysis/Candidate.ts), catch-up from a more advanced replica, promote,
 *                        repoint the others by GTID, downtime + detach the lost, old master read_only, post hooks
 *
 * Only GTID topologies are recovered (MariaDB `MASTER_USE_GTID=slave_pos`, MySQL auto-position). orchestrator's
 * Pseudo-GTID and binlog-server methods are refused with a reason.
 */
import { Data, Either } from "effect"
import {
  banReason,
  cannotReplicateReason,
  chooseCandidate,
  type CandidateDecision,
  describeDecision,
  isSmallerBinlogFormat,
  isSmallerMajorVersion,
  priorityBinlogFormat,
  priorityMajorVersion,
  sortReplicas
} from "../analysis/Candidate.js"
import { isBinlogServer, replicaCheckValid } from "../analysis/Counts.js"
import * as Pos from "../analysis/Position.js"
import type { PromotionPolicy } from "../analysis/Snapshot.js"
import * as Model from "../topology/Instance.js"
import type { Instance, PromotionRule } from "../topology/Instance.js"
import * as IKey from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import {
  type Dialect,
  describeStep as describeStepText,
  type GtidKind,
  type Key,
  keyString,
  type Plan,
  type PlannedStep,
  type Step
} from "./Step.js"

export class PlanRefused extends Data.TaggedError("PlanRefused")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

/** The configuration values planning uses (never the config object itself). */
export interface RecoveryPolicy {
  /** false for recover-lite and `?skipProcesses=true`. */
  readonly runHooks: boolean
  /** orchestrator ApplyMySQLPromotionAfterMasterFailover (default true). */
  readonly applyMySQLPromotion: boolean
  /** DetachLostReplicasAfterMasterFailover || DetachLostSlavesAfterMasterFailover. */
  readonly detachLostReplicas: boolean
  /** orchestrator LostInRecoveryDowntimeSeconds: 365 days. */
  readonly lostDowntimeSeconds: number
  readonly drainTimeoutSeconds: number
  readonly catchUpTimeoutSeconds: number
  /** Graceful takeover: how long the designated replica may take to reach the master (ReasonableMaintenanceReplicationLagSeconds). */
  readonly gracefulWaitSeconds: number
  /**
   * orchestrator FailMasterPromotionOnLagMinutes, in seconds (0 = off): a master promotion fails when the chosen
   * replica's replication lag (ReplicationLagQuery, else Seconds_Behind_Master; unknown = no check) reaches it.
   */
  readonly failPromotionOnLagSeconds: number
  /** orchestrator MasterFailoverDetachReplicaMasterHost: the promoted replica's master host becomes `//host`. */
  readonly detachPromotedMasterHost: boolean
  readonly promotion: PromotionPolicy
}

export const defaultRecoveryPolicy: RecoveryPolicy = {
  runHooks: true,
  applyMySQLPromotion: true,
  detachLostReplicas: true,
  lostDowntimeSeconds: 365 * 24 * 3600,
  drainTimeoutSeconds: 30,
  catchUpTimeoutSeconds: 30,
  gracefulWaitSeconds: 20,
  failPromotionOnLagSeconds: 0,
  detachPromotedMasterHost: false,
  promotion: {
    promotionIgnoreHostnameFilters: [],
    preventCrossDataCenterMasterFailover: false,
    preventCrossRegionMasterFailover: false,
    reasonableMaintenanceReplicationLagSeconds: 20
  }
}

export const LOST_IN_RECOVERY = "lost-in-recovery"

// ---- helpers ----------------------------------------------------------------------------------------------

const plain = (k: { readonly hostname: string; readonly port: number }): Key => ({ hostname: k.hostname, port: k.port })
const same = (a: { readonly hostname: string; readonly port: number }, b: { readonly hostname: string; readonly port: number }) =>
  a.hostname === b.hostname && a.port === b.port

const versionAtLeast = (version: string, major: number, minor: number, patch: number): boolean => {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (m === null) return false
  const v = [Number(m[1]), Number(m[2]), Number(m[3])] as const
  return v[0] !== major ? v[0] > major : v[1] !== minor ? v[1] > minor : v[2] >= patch
}

/** Statement spelling: MariaDB, MySQL before 8.0.23 (SLAVE / CHANGE MASTER), MySQL 8.0.23+ (REPLICA / SOURCE). */
export const dialectOf = (i: Instance): Dialect =>
  i.flavor === "MariaDB" || /mariadb/i.test(i.version)
    ? "mariadb"
    : versionAtLeast(i.version, 8, 0, 23)
    ? "mysql-replica"
    : "mysql-slave"

/** The GTID method every given replica supports, or the reason there is none. */
export const gtidKindOf = (replicas: ReadonlyArray<Instance>): Either.Either<GtidKind, string> => {
  if (replicas.length === 0) return Either.left("no replicas to recover with")
  if (replicas.every(Model.usingMariaDbGtid)) return Either.right("mariadb")
  if (replicas.every(Model.usingOracleGtid)) return Either.right("mysql")
  const without = replicas.filter((r) => !Model.usingGtid(r)).map((r) => keyString(r.key))
  return Either.left(
    without.length > 0
      ? `replicas without GTID replication (${without.join(", ")}): only GTID recovery is supported (no Pseudo-GTID / binlog servers)`
      : "replicas mix MariaDB and MySQL GTID"
  )
}

const dialects = (instances: ReadonlyArray<Instance>): Record<string, Dialect> =>
  Object.fromEntries(instances.map((i) => [keyString(i.key), dialectOf(i)] as const))

const step = (s: Step, critical: boolean, why: string): PlannedStep => ({ step: s, critical, why })

const hook = (policy: RecoveryPolicy, name: Extract<Step, { _tag: "RunHooks" }>["hook"], abort: boolean, why: string) =>
  policy.runHooks ? [step({ _tag: "RunHooks", hook: name, abortOnFailure: abort }, abort, why)] : []

// ---- dead master: phase 1 ----------------------------------------------------------------------------------

export interface DeadMasterInput {
  readonly failedKey: InstanceKey
  readonly clusterName: string
  /** The failed master as last probed (its DC guides the choice later), if known. */
  readonly master: Instance | null
  /** Its replicas as last probed. */
  readonly replicas: ReadonlyArray<Instance>
  /**
   * Operator's candidate (`recover/:host/:port/:candidateHost/:candidatePort`, force-master-takeover); for a dead
   * co-master, the other co-master when it must be promoted.
   */
  readonly requested: InstanceKey | null
  readonly policy: RecoveryPolicy
  /** "DeadCoMaster": the same two phases (planDeadCoMaster); default "DeadMaster". */
  readonly kind?: "DeadMaster" | "DeadCoMaster"
  /** Decision lines known before planning, audited with the plan. */
  readonly notes?: ReadonlyArray<string>
}

/**
 * Phase 1 of a dead-master recovery: PreFailover hooks (a failure aborts, orchestrator's rule), then drain
 * every replica whose last check is valid (the others cannot be reached and will be lost), then `Decide`.
 */
export const planDeadMaster = (input: DeadMasterInput): Either.Either<Plan, PlanRefused> => {
  const reachable = input.replicas.filter(replicaCheckValid)
  if (reachable.length === 0) {
    return Either.left(new PlanRefused({ reason: `${keyString(input.failedKey)} has no reachable replica to promote` }))
  }
  const kind = gtidKindOf(reachable)
  if (Either.isLeft(kind)) return Either.left(new PlanRefused({ reason: kind.left }))
  if (input.requested !== null && !input.replicas.some((r) => same(r.key, input.requested!))) {
    return Either.left(
      new PlanRefused({ reason: `${keyString(input.requested)} is not a replica of ${keyString(input.failedKey)}` })
    )
  }
  const unreachable = input.replicas.filter((r) => !replicaCheckValid(r)).map((r) => plain(r.key))
  const steps: Array<PlannedStep> = [
    ...hook(input.policy, "PreFailover", true, "orchestrator runs PreFailoverProcesses first; a failing hook aborts"),
    step(
      { _tag: "DrainRelayLogs", replicas: reachable.map((r) => plain(r.key)), timeoutSeconds: input.policy.drainTimeoutSeconds },
      true,
      "positions are comparable only once every replica has applied what it received (mariadb.md §5 gotcha 2)"
    ),
    step({ _tag: "Decide", requested: input.requested === null ? null : plain(input.requested) }, true, "choose on drained positions")
  ]
  return Either.right({
    kind: input.kind ?? "DeadMaster",
    target: plain(input.failedKey),
    clusterName: input.clusterName,
    gtid: kind.right,
    dialects: dialects([...(input.master === null ? [] : [input.master]), ...input.replicas]),
    successor: null,
    lost: unreachable,
    steps,
    rollback: [],
    notes: [
      ...(input.notes ?? []),
      ...(unreachable.length > 0 ? [`unreachable replicas (lost): ${unreachable.map(keyString).join(", ")}`] : [])
    ]
  })
}

// ---- dead co-master ------------------------------------------------------------------------------------------

export interface DeadCoMasterInput {
  readonly failedKey: InstanceKey
  readonly clusterName: string
  /** The failed co-master as last probed. */
  readonly coMaster: Instance | null
  /** The other co-master (the failed one's master) as last probed. */
  readonly otherCoMaster: Instance | null
  /** The failed co-master's replicas as last probed: the other co-master is one of them. */
  readonly replicas: ReadonlyArray<Instance>
  /** CoMasterRecoveryMustPromoteOtherCoMaster (default true). */
  readonly mustPromoteOtherCoMaster: boolean
  readonly policy: RecoveryPolicy
}

/**
 * orchestrator `RecoverDeadCoMaster`: the failed co-master's replicas (the other co-master among them) are regrouped
 * like a dead master's; the other co-master must be the one promoted when CoMasterRecoveryMustPromoteOtherCoMaster
 * is set or when it is writable (then a recovery that cannot promote it fails). Planned as a dead master whose
 * `Decide` is pinned to the other co-master, so it drains, catches up from a more advanced replica if needed, is
 * promoted (STOP SLAVE, RESET SLAVE ALL — it stops replicating from the dead co-master —, read_only=0), and the
 * dead co-master's other replicas are repointed below it.
 */
export const planDeadCoMaster = (input: DeadCoMasterInput): Either.Either<Plan, PlanRefused> => {
  const other = input.otherCoMaster
  if (other === null) {
    return Either.left(new PlanRefused({ reason: `could not read the other co-master of ${keyString(input.failedKey)}` }))
  }
  const must = input.mustPromoteOtherCoMaster || !other.readOnly
  const why = input.mustPromoteOtherCoMaster
    ? "CoMasterRecoveryMustPromoteOtherCoMaster"
    : !other.readOnly
    ? "it is writable"
    : ""
  return planDeadMaster({
    failedKey: input.failedKey,
    clusterName: input.clusterName,
    master: input.coMaster,
    replicas: input.replicas,
    requested: must ? other.key : null,
    policy: input.policy,
    kind: "DeadCoMaster",
    notes: [must
      ? `other co-master ${keyString(other.key)} must be promoted (${why})`
      : `other co-master ${keyString(other.key)} is read_only and CoMasterRecoveryMustPromoteOtherCoMaster is false: any replica may be promoted`]
  })
}

// ---- dead intermediate master --------------------------------------------------------------------------------

export interface DeadIntermediateMasterInput {
  readonly failedKey: InstanceKey
  readonly clusterName: string
  /** The failed intermediate master as last probed. */
  readonly intermediateMaster: Instance | null
  /** Its replicas as last probed. */
  readonly replicas: ReadonlyArray<Instance>
  /** Every known instance: the intermediate master's master and its siblings are looked up here. */
  readonly all: ReadonlyArray<Instance>
  readonly ruleOf: (key: InstanceKey) => PromotionRule
  readonly policy: RecoveryPolicy
}

/** orchestrator `isGenerallyValidAsCandidateSiblingOfIntermediateMaster`. */
const generallyValidSibling = (s: Instance): string | null =>
  !s.logBinEnabled
    ? "binary logs are disabled"
    : !s.logReplicationUpdatesEnabled
    ? "log_slave_updates is disabled"
    : !Model.replicaRunning(s)
    ? "not replicating"
    : !s.lastCheckValid
    ? "last check is not valid"
    : null

/**
 * orchestrator `isValidAsCandidateSiblingOfIntermediateMaster`, plus the move safety of every replica that is to move
 * below it (`unsafeMoveReason`): a sibling that would lose or duplicate a transaction of one of them is no candidate.
 */
const siblingProblem = (
  im: Instance,
  sibling: Instance,
  moving: ReadonlyArray<Instance>,
  input: DeadIntermediateMasterInput
): string | null => {
  const general = generallyValidSibling(sibling)
  if (general !== null) return general
  const banned = banReason(sibling, input.ruleOf(sibling.key), input.policy.promotion)
  if (banned !== null) return banned
  if (Model.hasReplicationFilters(sibling) !== Model.hasReplicationFilters(im)) return "replication filters differ from the intermediate master's"
  if (isBinlogServer(sibling) !== isBinlogServer(im)) return "binlog server kind differs from the intermediate master's"
  // orchestrator: `sibling.ExecBinlogCoordinates.SmallerThan(im.ExecBinlogCoordinates)`; siblings share the master,
  // so GTID positions (when both have them) compare the same way.
  const mode = Pos.modeFor([im, sibling])
  const o = Pos.compare(Pos.positionOf(sibling, mode), Pos.positionOf(im, mode))
  if (o === "behind" || o === "diverged") return `${o} the intermediate master's last known position`
  const unsafe = moving.flatMap((r) => {
    const why = unsafeMoveReason(r, sibling, input.all, input.policy)
    return why === null ? [] : [why]
  })
  return unsafe.length === 0 ? null : unsafe.join("; ")
}

const isCandidateRule = (rule: PromotionRule): boolean => rule === "must" || rule === "prefer"

/**
 * orchestrator `GetCandidateSiblingOfIntermediateMaster`: the intermediate master's siblings with the most replicas
 * first (then the most advanced: orchestrator's stated intent; its reversed sorter actually puts the least advanced
 * first among equals), and of those, in order: a registered candidate (must/prefer) in the intermediate master's
 * DC and environment, a candidate anywhere, a valid sibling in the same DC and environment, any valid sibling.
 */
export const candidateSibling = (
  im: Instance,
  moving: ReadonlyArray<Instance>,
  input: DeadIntermediateMasterInput
): { readonly sibling: Instance | null; readonly log: ReadonlyArray<string> } => {
  const mk = Model.masterKey(im)
  if (mk === null) return { sibling: null, log: ["the intermediate master has no master: no siblings"] }
  const replicaCount = (i: Instance) => input.all.filter((x) => IKey.equals(Model.masterKey(x), i.key)).length
  const mode = Pos.modeFor(input.all.filter((x) => IKey.equals(Model.masterKey(x), mk)))
  const siblings = input.all
    .filter((x) => IKey.equals(Model.masterKey(x), mk) && !same(x.key, im.key))
    .sort((a, b) =>
      replicaCount(b) - replicaCount(a) || Pos.linear(Pos.positionOf(b, mode), Pos.positionOf(a, mode)) ||
      IKey.compare(a.key, b.key)
    )
  if (siblings.length === 0) return { sibling: null, log: [`no siblings of ${keyString(im.key)}`] }
  const log: Array<string> = []
  const valid = siblings.filter((sib) => {
    const why = siblingProblem(im, sib, moving, input)
    log.push(`sibling ${keyString(sib.key)}: ${why === null ? "valid" : `not a candidate: ${why}`}`)
    return why === null
  })
  const sameDcEnv = (sib: Instance) => sib.dataCenter === im.dataCenter && sib.physicalEnvironment === im.physicalEnvironment
  const candidate = (sib: Instance) => isCandidateRule(input.ruleOf(sib.key))
  const picks: ReadonlyArray<readonly [string, (sib: Instance) => boolean]> = [
    ["the ideal candidate (promotion rule, same DC and environment)", (sib) => candidate(sib) && sameDcEnv(sib)],
    ["a candidate sibling", candidate],
    ["a sibling in the same DC and environment", sameDcEnv],
    ["any valid sibling", () => true]
  ]
  for (const [what, p] of picks) {
    const hit = valid.find(p)
    if (hit !== undefined) return { sibling: hit, log: [...log, `found ${keyString(hit.key)} as ${what}`] }
  }
  return { sibling: null, log: [...log, `cannot find a candidate sibling of ${keyString(im.key)}`] }
}

/**
 * orchestrator `RecoverDeadIntermediateMaster` for GTID topologies, decided once: PreFailover hooks, drain the
 * reachable replicas' relay logs (SQL thread first: the MariaDB GTID trap), move them below one target, downtime and
 * detach the lost, PostIntermediateMasterFailover and PostFailover hooks. The target, in orchestrator's preference
 * order without its regroup step (Plan B, see docs/recovery.md): a candidate sibling in the intermediate master's
 * DC (Plan A), else the intermediate master's own master (Plan D), else a sibling in another DC (Plan C).
 */
export const planDeadIntermediateMaster = (input: DeadIntermediateMasterInput): Either.Either<Plan, PlanRefused> => {
  const refuse = (reason: string) => Either.left(new PlanRefused({ reason }))
  const im = input.intermediateMaster
  const failed = keyString(input.failedKey)
  if (im === null) return refuse(`cannot read the intermediate master ${failed}`)
  const mk = Model.masterKey(im)
  if (mk === null) return refuse(`${failed} has no master: not an intermediate master`)
  const reachable = input.replicas.filter(replicaCheckValid)
  if (reachable.length === 0) return refuse(`${failed} has no reachable replica to relocate`)
  const unreachable = input.replicas.filter((r) => !replicaCheckValid(r))
  const master = input.all.find((i) => same(i.key, mk)) ?? null
  const siblingChoice = candidateSibling(im, reachable, input)
  const sibling = siblingChoice.sibling
  const sameDc = sibling !== null && sibling.dataCenter === im.dataCenter
  const unsafeBelow = (r: Instance, target: Instance) => unsafeMoveReason(r, target, input.all, input.policy)
  const masterProblem = master === null
    ? `${keyString(mk)} is unknown`
    : reachable.map((r) => unsafeBelow(r, master)).find((w) => w !== null) ?? null
  // The master takes every replica that can move below it; one that cannot (errant GTIDs...) would not fit a
  // sibling either, so it is lost rather than a reason to cross DCs.
  const masterMovable = master === null ? [] : reachable.filter((r) => unsafeBelow(r, master) === null)
  const choice = ((): { readonly target: Instance; readonly movable: ReadonlyArray<Instance>; readonly plan: string } | null => {
    if (sibling !== null && sameDc) {
      return { target: sibling, movable: reachable, plan: `Plan A: relocate the replicas below the candidate sibling ${keyString(sibling.key)} (same DC)` }
    }
    if (master !== null && masterMovable.length > 0) {
      return { target: master, movable: masterMovable, plan: `Plan D: relocate the replicas up, below ${keyString(master.key)}, the intermediate master's master` }
    }
    if (sibling !== null) {
      const why = masterProblem ?? "no replica can move below it"
      return { target: sibling, movable: reachable, plan: `Plan C: relocate the replicas below the sibling ${keyString(sibling.key)} in another DC (${keyString(mk)}: ${why})` }
    }
    return null
  })()
  if (choice === null) {
    const why = [masterProblem ?? "", ...siblingChoice.log].filter((x) => x !== "").join("; ")
    return refuse(`no target to relocate the replicas of ${failed} to: ${why}`)
  }
  const { target, movable, plan } = choice
  const kind = gtidKindOf(movable)
  if (Either.isLeft(kind)) return refuse(kind.left)
  const t = plain(target.key)
  const moving = movable.map((r) => plain(r.key))
  const unmovable = reachable.filter((r) => !movable.includes(r))
  const lost = [...unreachable, ...unmovable].map((r) => plain(r.key))
  const detach = unmovable.map((r) => plain(r.key))
  const policy = input.policy
  const steps: Array<PlannedStep> = [
    ...hook(policy, "PreFailover", true, "orchestrator runs PreFailoverProcesses first; a failing hook aborts"),
    step(
      { _tag: "DrainRelayLogs", replicas: moving, timeoutSeconds: policy.drainTimeoutSeconds },
      true,
      "apply what the replicas received from the dead intermediate master before moving them (SQL thread first: with " +
        "MariaDB GTID, stopping both threads drops the relay logs, mariadb.md §5 gotcha 1)"
    ),
    step(
      { _tag: "MoveReplicas", replicas: moving, target: t, timeoutSeconds: policy.catchUpTimeoutSeconds },
      true,
      `${plan}; a replica that cannot move is lost, the recovery fails only if none moves`
    ),
    step(
      { _tag: "Downtime", keys: lost, reason: LOST_IN_RECOVERY, seconds: policy.lostDowntimeSeconds },
      false,
      "lost replicas are downtimed as in a dead-master recovery (LostInRecoveryDowntimeSeconds)"
    ),
    ...(policy.detachLostReplicas && detach.length > 0 ? [step(
      { _tag: "DetachMasterHost", keys: detach },
      false,
      "DetachLostReplicasAfterMasterFailover: lost replicas must not reconnect to the intermediate master if it returns"
    )] : []),
    ...hook(policy, "PostIntermediateMasterFailover", false, "orchestrator runs it once replicas moved"),
    step({ _tag: "EndDowntime", key: t }, false, "orchestrator ends the successor's downtime before PostFailover"),
    ...hook(policy, "PostFailover", false, "orchestrator runs PostFailoverProcesses on success")
  ]
  const whyLost = [
    ...unreachable.map((r) => `${keyString(r.key)}: unreachable (lost)`),
    ...unmovable.map((r) => `${keyString(r.key)}: cannot move below ${keyString(t)} (lost): ${unsafeBelow(r, target) ?? ""}`)
  ]
  return Either.right({
    kind: "DeadIntermediateMaster",
    target: plain(input.failedKey),
    clusterName: input.clusterName,
    gtid: kind.right,
    dialects: dialects([im, target, ...input.replicas]),
    successor: t,
    lost,
    steps,
    rollback: [step(
      { _tag: "StartReplication", keys: moving },
      false,
      "no replica moved: they resume replicating from the intermediate master, should it come back"
    )],
    notes: [
      ...siblingChoice.log,
      ...(masterProblem === null ? [] : [`master ${keyString(mk)}: ${masterProblem}`]),
      plan,
      ...whyLost
    ]
  })
}

// ---- dead master: phase 2 ----------------------------------------------------------------------------------

export interface PromotionInput {
  readonly plan: Plan
  readonly master: Instance | null
  /** Every replica of the failed master: drained ones freshly read, unreachable ones as last probed. */
  readonly replicas: ReadonlyArray<Instance>
  readonly ruleOf: (key: InstanceKey) => PromotionRule
  readonly requested: InstanceKey | null
  readonly policy: RecoveryPolicy
}

export interface Promotion {
  readonly decision: CandidateDecision
  /** The steps that replace `Decide`. */
  readonly steps: ReadonlyArray<PlannedStep>
  readonly successor: Key
  readonly lost: ReadonlyArray<Key>
  readonly notes: ReadonlyArray<string>
}

/**
 * Phase 2: the candidate and everything after it. The candidate is the colleague module's pure choice
 * (position, promotion rules, DC/region, version and binlog format, errant GTIDs); if a replica is ahead of
 * it, the candidate catches up from that replica first, so nothing any replica received is lost (mariadb.md
 * §5 gotcha 4: pointing the advanced replica at a lagging master fails with 1236).
 */
export const planPromotion = (input: PromotionInput): Either.Either<Promotion, PlanRefused> => {
  const { plan, policy } = input
  const decision = chooseCandidate({
    deadMaster: input.master,
    replicas: input.replicas,
    ruleOf: input.ruleOf,
    policy: policy.promotion,
    ...(input.requested === null ? {} : { requested: input.requested })
  })
  const notes = describeDecision(decision)
  if (decision.candidate === null) {
    return Either.left(new PlanRefused({ reason: `no replica of ${keyString(plan.target)} can be promoted: ${decision.log.join("; ")}` }))
  }
  if (decision.mode === "binlog") {
    return Either.left(new PlanRefused({ reason: "replica positions are not comparable by GTID after draining" }))
  }
  const candidate = plain(decision.candidate)
  const tooLate = lagRefusal(input, candidate)
  if (tooLate !== null) return Either.left(new PlanRefused({ reason: tooLate }))
  const lost = decision.lost.map(plain)
  const kept = decision.verdicts.filter((v) => v.role !== "candidate" && !v.lost).map((v) => plain(v.key))
  const reachableLost = lost.filter((k) => input.replicas.some((r) => same(r.key, k) && replicaCheckValid(r)))
  const steps: Array<PlannedStep> = [
    ...(decision.catchUpFrom === null ? [] : [step(
      { _tag: "CatchUp", candidate, source: plain(decision.catchUpFrom), timeoutSeconds: policy.catchUpTimeoutSeconds },
      true,
      `${keyString(decision.catchUpFrom)} received more than the candidate: take its transactions before promoting`
    )]),
    step({ _tag: "Promote", candidate, apply: policy.applyMySQLPromotion }, true, "the candidate becomes the writable master"),
    ...(breaksCircle(input, candidate) ? [step(
      { _tag: "DetachMasterHost", keys: [candidate] },
      false,
      "orchestrator RecoverDeadCoMaster: a promoted replica that is not the other co-master (and kept its replication " +
        "settings: no MySQL promotion) must not close a circle through the dead co-master"
    )] : detachesPromoted(input) ? [step(
      { _tag: "DetachMasterHost", keys: [candidate] },
      false,
      "MasterFailoverDetachReplicaMasterHost: the promoted replica kept its replication settings (no MySQL promotion): " +
        "it must not reconnect to the old master"
    )] : []),
    ...(kept.length === 0 ? [] : [step(
      { _tag: "Repoint", replicas: kept, master: candidate, start: true, credentials: "keep", useGtid: "slave_pos" },
      false,
      "the other replicas replicate from the new master by GTID (a failure loses that replica, not the recovery)"
    )]),
    step(
      { _tag: "Downtime", keys: [...lost, plan.target], reason: LOST_IN_RECOVERY, seconds: policy.lostDowntimeSeconds },
      false,
      "orchestrator downtimes the lost replicas and the failed master (LostInRecoveryDowntimeSeconds)"
    ),
    ...(policy.detachLostReplicas && reachableLost.length > 0 ? [step(
      { _tag: "DetachMasterHost", keys: reachableLost },
      false,
      "DetachLostReplicasAfterMasterFailover: lost replicas must not reconnect to the old master"
    )] : []),
    step({ _tag: "SetReadOnly", key: plan.target, readOnly: true }, false, "best effort: the old master, if reachable, must not take writes"),
    step({ _tag: "EndDowntime", key: candidate }, false, "orchestrator ends the successor's downtime"),
    ...hook(policy, "PostMasterFailover", false, "orchestrator runs PostMasterFailoverProcesses after promotion"),
    ...hook(policy, "PostFailover", false, "orchestrator runs PostFailoverProcesses on success")
  ]
  return Either.right({ decision, steps, successor: candidate, lost: [...plan.lost, ...lost.filter((k) => !plan.lost.some((l) => same(l, k)))], notes })
}

/**
 * FailMasterPromotionOnLagMinutes: orchestrator checks the promoted replica of a dead master's recovery (not of a
 * co-master's or an intermediate master's) and fails the recovery rather than promote a replica that far behind.
 */
const lagRefusal = (input: PromotionInput, candidate: Key): string | null => {
  const limit = input.policy.failPromotionOnLagSeconds
  if (limit <= 0 || !masterRecovery(input)) return null
  const chosen = input.replicas.find((r) => same(r.key, candidate))
  const lag = chosen === undefined ? null : Model.lagSeconds(chosen)
  if (lag === null || lag < limit) return null
  return `failed promotion: FailMasterPromotionOnLagMinutes is ${limit / 60} and the candidate ${keyString(candidate)} lags ${lag} s`
}

/**
 * MasterFailoverDetachReplicaMasterHost for a master recovery. With ApplyMySQLPromotionAfterMasterFailover (the
 * default) the promoted replica had RESET SLAVE ALL and has no master host left to detach: orchestrator's attempt
 * then fails harmlessly, here it is not planned.
 */
const detachesPromoted = (input: PromotionInput): boolean =>
  input.policy.detachPromotedMasterHost && !input.policy.applyMySQLPromotion && masterRecovery(input)

/** orchestrator's recoverDeadMaster (a dead master, or a graceful takeover), where its promotion overrides apply. */
const masterRecovery = (input: PromotionInput): boolean =>
  input.plan.kind === "DeadMaster" || input.plan.kind === "GracefulMasterTakeover"

/**
 * A dead co-master recovery that promoted some replica other than the other co-master, without RESET SLAVE ALL
 * (ApplyMySQLPromotionAfterMasterFailover false): the promoted replica still names the dead co-master as its master,
 * which names the other co-master, which is repointed to the promoted one — a circle orchestrator breaks with
 * detach-replica-master-host.
 */
const breaksCircle = (input: PromotionInput, candidate: Key): boolean => {
  if (input.plan.kind !== "DeadCoMaster" || input.policy.applyMySQLPromotion || input.master === null) return false
  const other = Model.masterKey(input.master)
  return other !== null && !same(other, candidate)
}

/** The plan with `Decide` (at `index`) replaced by the promotion's (or regroup's) steps. */
export const applyPromotion = (plan: Plan, index: number, p: Pick<Promotion, "steps" | "successor" | "lost" | "notes">): Plan => ({
  ...plan,
  successor: p.successor,
  lost: p.lost,
  steps: [...plan.steps.slice(0, index), ...p.steps, ...plan.steps.slice(index + 1)],
  notes: [...plan.notes, ...p.notes]
})

// ---- graceful master takeover -------------------------------------------------------------------------------

export interface GracefulInput {
  readonly master: Instance
  /** The master's direct replicas, as last probed. */
  readonly replicas: ReadonlyArray<Instance>
  readonly designated: InstanceKey | null
  /** `-auto`: orchestrator picks among several replicas, and the demoted master starts replicating. */
  readonly auto: boolean
  readonly ruleOf: (key: InstanceKey) => PromotionRule
  readonly policy: RecoveryPolicy
}

/**
 * orchestrator `GracefulMasterTakeover` (go/logic/topology_recovery.go): the designated direct replica (or the
 * only one; with -auto, the best one) becomes master; the other direct replicas move below it first; the
 * master goes read_only; once the designated has applied everything, it is promoted and the old master
 * replicates from it (started only with -auto). Until the promotion, a failure makes the master writable again.
 */
export const planGracefulTakeover = (input: GracefulInput): Either.Either<Plan, PlanRefused> => {
  const { master, policy } = input
  const refuse = (reason: string) => Either.left(new PlanRefused({ reason }))
  if (Model.isReplica(master)) return refuse(`${keyString(master.key)} is not a master (it replicates from ${keyString(Model.masterKey(master)!)})`)
  if (!master.lastCheckValid) return refuse(`${keyString(master.key)} is not reachable: use force-master-failover`)
  const replicas = input.replicas
  if (replicas.length === 0) return refuse(`${keyString(master.key)} has no replicas`)
  let designated: Instance | undefined
  if (input.designated !== null) {
    designated = replicas.find((r) => same(r.key, input.designated!))
    if (designated === undefined) return refuse(`${keyString(input.designated)} is not a direct replica of ${keyString(master.key)}`)
  } else if (replicas.length === 1) {
    designated = replicas[0]
  } else if (input.auto) {
    const d = chooseCandidate({ deadMaster: master, replicas, ruleOf: input.ruleOf, policy: policy.promotion })
    designated = d.candidate === null ? undefined : replicas.find((r) => same(r.key, d.candidate!))
    if (designated === undefined) return refuse(`no replica of ${keyString(master.key)} can be promoted: ${d.log.join("; ")}`)
  } else {
    return refuse(`${keyString(master.key)} has ${replicas.length} replicas: designate one (graceful-master-takeover/:host/:port/:designatedHost/:designatedPort) or use graceful-master-takeover-auto`)
  }
  const unhealthy = replicas.filter((r) => !replicaCheckValid(r) || !Model.replicaRunning(r))
  if (unhealthy.some((r) => same(r.key, designated!.key))) return refuse(`designated ${keyString(designated.key)} is not replicating`)
  const kind = gtidKindOf(replicas)
  if (Either.isLeft(kind)) return refuse(kind.left)
  if (!designated.logBinEnabled || !designated.logReplicationUpdatesEnabled) {
    return refuse(`designated ${keyString(designated.key)} needs log_bin and log_slave_updates to master its siblings`)
  }
  const d = plain(designated.key)
  const m = plain(master.key)
  const siblings = replicas.filter((r) => !same(r.key, d) && replicaCheckValid(r)).map((r) => plain(r.key))
  const steps: Array<PlannedStep> = [
    ...hook(policy, "PreGracefulTakeover", true, "before the master goes read_only; a failure aborts"),
    ...(siblings.length === 0 ? [] : [step(
      { _tag: "Repoint", replicas: siblings, master: d, start: true, credentials: "keep", useGtid: "slave_pos" },
      true,
      "the other direct replicas move below the designated replica first"
    )]),
    step({ _tag: "SetReadOnly", key: m, readOnly: true }, true, "stop writes on the master"),
    step({ _tag: "WaitCaughtUp", replica: d, master: m, timeoutSeconds: policy.gracefulWaitSeconds }, true, "the designated has every transaction"),
    step({ _tag: "Promote", candidate: d, apply: true }, true, "the designated becomes the writable master"),
    step(
      { _tag: "Repoint", replicas: [m], master: d, start: input.auto, credentials: "config", useGtid: "current_pos" },
      false,
      "the demoted master replicates from the new one (started only with -auto, orchestrator's rule)"
    ),
    ...hook(policy, "PostGracefulTakeover", false, "end of the takeover")
  ]
  return Either.right({
    kind: "GracefulMasterTakeover",
    target: m,
    clusterName: master.clusterName,
    gtid: kind.right,
    dialects: dialects([master, ...replicas]),
    successor: d,
    lost: [],
    steps,
    rollback: [step({ _tag: "SetReadOnly", key: m, readOnly: false }, false, "takeover failed before promotion: the master takes writes again")],
    notes: [`designated ${keyString(d)}`]
  })
}

// ---- GTID refactoring ---------------------------------------------------------------------------------------

/** Why `replica` cannot move below `target` by GTID without losing or duplicating anything, or null. */
export const unsafeMoveReason = (
  replica: Instance,
  target: Instance,
  all: ReadonlyArray<Instance>,
  policy: RecoveryPolicy
): string | null => {
  const r = keyString(replica.key)
  const t = keyString(target.key)
  if (same(replica.key, target.key)) return `cannot move ${r} below itself`
  if (!Model.isReplica(replica)) return `${r} is not a replica`
  if (!replicaCheckValid(replica)) return `${r}: last check is not valid`
  if (!target.lastCheckValid) return `${t}: last check is not valid`
  // A target below the replica would make a replication cycle.
  const byKey = new Map(all.map((i) => [keyString(i.key), i] as const))
  const seen = new Set<string>()
  for (let at: Instance | undefined = target; at !== undefined; at = byKey.get(keyString(Model.masterKey(at) ?? { hostname: "", port: 0 }))) {
    const id = keyString(at.key)
    if (seen.has(id)) break
    seen.add(id)
    if (same(at.key, replica.key)) return `${t} replicates from ${r}: moving would create a cycle`
  }
  const kind = gtidKindOf([replica])
  if (Either.isLeft(kind)) return kind.left
  if (!target.logBinEnabled) return `${t} does not have binary logs enabled`
  if (Model.isReplica(target) && !target.logReplicationUpdatesEnabled) return `${t} does not have log_slave_updates enabled`
  const mode: Pos.PositionMode = kind.right === "mariadb" ? "mariadb-gtid" : "mysql-gtid"
  const rp = Pos.positionOf(replica, mode)
  const tp = Model.isReplica(target) ? Pos.positionOf(target, mode) : null
  if (tp !== null && rp.mode === tp.mode) {
    const o = Pos.compare(rp, tp)
    if (o === "diverged") return `${r} has transactions ${t} does not have (positions diverge: ${Pos.format(rp)} vs ${Pos.format(tp)})`
  }
  const errant = Pos.errantOf(replica)
  if (errant !== "") return `${r} has errant GTIDs ${errant}`
  if (Model.sqlDelay(target) > Model.sqlDelay(replica) && Model.sqlDelay(target) > policy.promotion.reasonableMaintenanceReplicationLagSeconds) {
    return `${t} is delayed by ${Model.sqlDelay(target)} s`
  }
  return null
}

/**
 * Moves replicas below `target` by GTID (relocate, move-below-gtid, move-up, move-below, repoint, take-siblings,
 * relocate-replicas, move-replicas-gtid): every move is checked first; one unsafe move refuses the whole plan,
 * so the topology is left as it was.
 */
export const planRelocate = (
  replicas: ReadonlyArray<Instance>,
  target: Instance,
  all: ReadonlyArray<Instance>,
  policy: RecoveryPolicy,
  /**
   * repoint / repoint-replicas: CHANGE MASTER again even for the replicas already replicating from the target
   * (orchestrator's Repoint re-points at the same coordinates; operators use it to refetch broken relay logs).
   */
  options: { readonly repointInPlace?: boolean } = {}
): Either.Either<Plan, PlanRefused> => {
  if (replicas.length === 0) return Either.left(new PlanRefused({ reason: "no replica to move" }))
  const problems = replicas.flatMap((r) => {
    const why = unsafeMoveReason(r, target, all, policy)
    return why === null ? [] : [why]
  })
  if (problems.length > 0) return Either.left(new PlanRefused({ reason: problems.join("; ") }))
  const kind = gtidKindOf(replicas)
  if (Either.isLeft(kind)) return Either.left(new PlanRefused({ reason: kind.left }))
  const moving = options.repointInPlace === true
    ? replicas
    : replicas.filter((r) => !same(Model.masterKey(r) ?? { hostname: "", port: 0 }, target.key))
  return Either.right({
    kind: "Relocate",
    target: plain(target.key),
    clusterName: target.clusterName,
    gtid: kind.right,
    dialects: dialects([target, ...replicas]),
    successor: null,
    lost: [],
    steps: moving.length === 0 ? [] : [step(
      {
        _tag: "Repoint",
        replicas: moving.map((r) => plain(r.key)),
        master: plain(target.key),
        start: true,
        credentials: "keep",
        useGtid: "slave_pos"
      },
      true,
      `move below ${keyString(target.key)} by GTID`
    )],
    rollback: [],
    notes: replicas.length > moving.length ? ["some replicas already replicate from the target"] : []
  })
}

// ---- regroup-replicas (GTID) ---------------------------------------------------------------------------------

export interface RegroupInput {
  /** The instance whose direct replicas are regrouped (it stays their master's master). */
  readonly master: Instance
  /** Its direct replicas: as last probed (phase 1), freshly read after draining (phase 2). */
  readonly replicas: ReadonlyArray<Instance>
  /** Every known instance (cycle check of `unsafeMoveReason`). */
  readonly all: ReadonlyArray<Instance>
  readonly ruleOf: (key: InstanceKey) => PromotionRule
  readonly policy: RecoveryPolicy
}

export interface RegroupChoice {
  readonly candidate: Instance
  /** The other direct replicas, best first: each moves below the candidate. */
  readonly others: ReadonlyArray<Instance>
  readonly log: ReadonlyArray<string>
}

/**
 * orchestrator `GetCandidateReplica`/`chooseCandidateReplica` as regroup uses them: the replicas are ordered best
 * first (most advanced position; promotion rule only breaks ties, so prefer_not loses a tie), and the candidate is
 * the first one able to master the others and not banned (must_not, PromotionIgnoreHostnameFilters). Unlike
 * orchestrator, which then falls back to a banned-free replica that masters nobody and loses the replicas it
 * cannot move, any replica that cannot move safely below the candidate refuses the whole regroup.
 */
export const chooseRegroupCandidate = (input: RegroupInput): Either.Either<RegroupChoice, string> => {
  const m = keyString(input.master.key)
  if (input.replicas.length === 0) return Either.left(`${m} has no replicas`)
  const mode = Pos.modeFor(input.replicas)
  const sorted = sortReplicas(input.replicas, { mode, dataCenter: input.master.dataCenter, ruleOf: input.ruleOf })
  const major = priorityMajorVersion(input.replicas)
  const format = priorityBinlogFormat(input.replicas)
  const rejections = (i: Instance): ReadonlyArray<string> =>
    [
      replicaCheckValid(i) ? null : "last check is not valid",
      i.logBinEnabled ? null : "binary logs are disabled",
      i.logReplicationUpdatesEnabled ? null : "log_slave_updates is disabled",
      isBinlogServer(i) ? "is a binlog server" : null,
      banReason(i, input.ruleOf(i.key), input.policy.promotion),
      isSmallerMajorVersion(major, Model.majorVersionString(i)) ? `major version above the siblings' most common ${major}` : null,
      isSmallerBinlogFormat(format, i.binlogFormat) ? `binlog format ${i.binlogFormat} above the siblings' most common ${format}` : null
    ].filter((r): r is string => r !== null)
  const log: Array<string> = []
  let candidate: Instance | undefined
  for (const [rank, i] of sorted.entries()) {
    const why = rejections(i)
    if (why.length === 0) {
      candidate = i
      log.push(`regroup: chose ${keyString(i.key)} (rank ${rank} by position, promotion rule ${input.ruleOf(i.key)}, at ${Pos.format(Pos.positionOf(i, mode))})`)
      break
    }
    log.push(`regroup: skipped ${keyString(i.key)} (rank ${rank}): ${why.join(", ")}`)
  }
  if (candidate === undefined) return Either.left(`no replica of ${m} can take its siblings: ${log.map((l) => l.replace(/^regroup: skipped /, "")).join("; ")}`)
  const cand = candidate
  const others = sorted.filter((i) => i !== cand)
  const problems = others.flatMap((o) => {
    const why = unsafeMoveReason(o, cand, input.all, input.policy) ?? cannotReplicateReason(o, cand, input.policy.promotion)
    return why === null ? [] : [`cannot move ${keyString(o.key)} below ${keyString(cand.key)}: ${why}`]
  })
  if (problems.length > 0) return Either.left(problems.join("; "))
  return Either.right({ candidate: cand, others, log })
}

/**
 * regroup-replicas / regroup-replicas-gtid, phase 1: refuse early, on the last probe, what cannot be regrouped
 * (no replica able to take its siblings, an unsafe move, no GTID); otherwise drain every direct replica's relay
 * logs (orchestrator stops them "nicely" before sorting: positions are comparable only once applied) and `Decide`
 * on the drained positions (`planRegroupMoves`). A failure before the replicas move restarts them all where they
 * were (rollback), so a refused regroup leaves the topology as it was.
 */
export const planRegroup = (input: RegroupInput): Either.Either<Plan, PlanRefused> => {
  const refuse = (reason: string) => Either.left(new PlanRefused({ reason }))
  if (input.replicas.length === 0) return refuse(`${keyString(input.master.key)} has no replicas`)
  const kind = gtidKindOf(input.replicas)
  if (Either.isLeft(kind)) return refuse(kind.left)
  const dry = chooseRegroupCandidate(input)
  if (Either.isLeft(dry)) return refuse(dry.left)
  const replicas = input.replicas.map((r) => plain(r.key))
  return Either.right({
    kind: "Regroup",
    target: plain(input.master.key),
    clusterName: input.master.clusterName,
    gtid: kind.right,
    dialects: dialects([input.master, ...input.replicas]),
    successor: null,
    lost: [],
    steps: [
      step(
        { _tag: "DrainRelayLogs", replicas, timeoutSeconds: input.policy.drainTimeoutSeconds },
        true,
        "positions are comparable only once every replica has applied what it received (SQL thread first: mariadb.md §5 gotcha 1)"
      ),
      step({ _tag: "Decide", requested: null }, true, "choose the candidate on drained positions")
    ],
    rollback: [step({ _tag: "StartReplication", keys: replicas }, false, "regroup failed before moving: the replicas resume from their master")],
    notes: [`by the last probe: ${dry.right.log.join("; ")}`]
  })
}

export interface RegroupMoves {
  readonly candidate: Instance
  readonly steps: ReadonlyArray<PlannedStep>
  readonly successor: Key
  readonly lost: ReadonlyArray<Key>
  readonly notes: ReadonlyArray<string>
}

/**
 * Phase 2, on the drained replicas: the candidate resumes replicating from the master first — it is not promoted,
 * and the master has every transaction any sibling applied, so a sibling ahead of it (a must_not one, say) is not
 * lost: `MoveReplicas` waits until the candidate has what each sibling applied before repointing it.
 */
export const planRegroupMoves = (plan: Plan, input: RegroupInput): Either.Either<RegroupMoves, PlanRefused> => {
  const choice = chooseRegroupCandidate(input)
  if (Either.isLeft(choice)) return Either.left(new PlanRefused({ reason: choice.left }))
  const { candidate, others, log } = choice.right
  const c = plain(candidate.key)
  const moving = others.map((o) => plain(o.key))
  return Either.right({
    candidate,
    successor: c,
    lost: plan.lost,
    notes: log,
    steps: [
      step({ _tag: "StartReplication", keys: [c] }, true, "the candidate resumes from the master and gets every transaction its siblings have"),
      ...(moving.length === 0 ? [] : [
        step(
          { _tag: "MoveReplicas", replicas: moving, target: c, timeoutSeconds: input.policy.catchUpTimeoutSeconds },
          true,
          `move the other replicas of ${keyString(plan.target)} below ${keyString(c)} by GTID, each once the candidate has what it applied`
        ),
        step({ _tag: "StartReplication", keys: moving }, false, "best effort: a replica that could not move resumes from its old master")
      ])
    ]
  })
}

/**
 * take-master: `replica` swaps places with its master M (M must itself be a replica of G): M stops, the
 * replica catches up with M, moves below G, then M replicates from the replica.
 */
export const planTakeMaster = (replica: Instance, all: ReadonlyArray<Instance>, policy: RecoveryPolicy): Either.Either<Plan, PlanRefused> => {
  const refuse = (reason: string) => Either.left(new PlanRefused({ reason }))
  const mk = Model.masterKey(replica)
  if (mk === null) return refuse(`${keyString(replica.key)} is not a replica`)
  const master = all.find((i) => same(i.key, mk))
  if (master === undefined) return refuse(`master ${keyString(mk)} of ${keyString(replica.key)} is unknown`)
  const gk = Model.masterKey(master)
  if (gk === null) return refuse(`master ${keyString(mk)} is not a replica itself: use graceful-master-takeover`)
  const grand = all.find((i) => same(i.key, gk))
  if (grand === undefined) return refuse(`${keyString(gk)} is unknown`)
  const up = unsafeMoveReason(replica, grand, all, policy)
  if (up !== null) return refuse(up)
  if (!replica.logBinEnabled || !replica.logReplicationUpdatesEnabled) return refuse(`${keyString(replica.key)} needs log_bin and log_slave_updates`)
  const kind = gtidKindOf([replica, master])
  if (Either.isLeft(kind)) return refuse(kind.left)
  const r = plain(replica.key)
  const m = plain(master.key)
  return Either.right({
    kind: "TakeMaster",
    target: r,
    clusterName: replica.clusterName,
    gtid: kind.right,
    dialects: dialects([replica, master, grand]),
    successor: r,
    lost: [],
    steps: [
      step({ _tag: "StopReplication", keys: [m] }, true, "freeze the master's position"),
      step({ _tag: "WaitCaughtUp", replica: r, master: m, timeoutSeconds: policy.gracefulWaitSeconds }, true, "the replica has all of its master's transactions"),
      step({ _tag: "Repoint", replicas: [r], master: plain(grand.key), start: true, credentials: "keep", useGtid: "slave_pos" }, true, "move up"),
      step({ _tag: "Repoint", replicas: [m], master: r, start: true, credentials: "keep", useGtid: "slave_pos" }, true, "the old master below it"),
      ...hook(policy, "PostTakeMaster", false, "orchestrator PostTakeMasterProcesses")
    ],
    rollback: [step({ _tag: "StartReplication", keys: [m] }, false, "take-master failed: the master replicates again")],
    notes: []
  })
}

/** make-co-master: the master replicates from its direct replica (`current_pos`: its own writes count). */
export const planMakeCoMaster = (replica: Instance, all: ReadonlyArray<Instance>): Either.Either<Plan, PlanRefused> => {
  const refuse = (reason: string) => Either.left(new PlanRefused({ reason }))
  const mk = Model.masterKey(replica)
  if (mk === null) return refuse(`${keyString(replica.key)} is not a replica`)
  const master = all.find((i) => same(i.key, mk))
  if (master === undefined) return refuse(`master ${keyString(mk)} is unknown`)
  if (Model.isReplica(master)) return refuse(`${keyString(mk)} is not a master: only a master can become a co-master`)
  if (!master.lastCheckValid || !replicaCheckValid(replica)) return refuse("both servers must be reachable")
  if (!replica.logBinEnabled || !replica.logReplicationUpdatesEnabled) return refuse(`${keyString(replica.key)} needs log_bin and log_slave_updates`)
  const kind = gtidKindOf([replica])
  if (Either.isLeft(kind)) return refuse(kind.left)
  return Either.right({
    kind: "MakeCoMaster",
    target: plain(master.key),
    clusterName: master.clusterName,
    gtid: kind.right,
    dialects: dialects([replica, master]),
    successor: null,
    lost: [],
    steps: [step(
      { _tag: "Repoint", replicas: [plain(master.key)], master: plain(replica.key), start: true, credentials: "config", useGtid: "current_pos" },
      true,
      "the master replicates from its replica (master-master)"
    )],
    rollback: [],
    notes: []
  })
}

/** The steps of a plan, one line each (golden tests, audit). */
export const describePlan = (plan: Plan): ReadonlyArray<string> =>
  plan.steps.map((s, n) => `${n + 1}. ${s.critical ? "" : "(best effort) "}${describeStepText(s.step)}`)

