/**
 * Runs a plan (core/recovery/Step.ts) against MySQL/MariaDB, one step at a time, auditing each step through
 * the replicated `write-recovery-step` op, so every node shows the same history and the next leader can resume
 * from the first step not marked done (`resumePoint`).
 *
 * Audit vocabulary (the resume protocol; messages are also what `audit-recovery-steps` shows):
 *   `plan (from step N): {json}`   the plan, written at start and again after `Decide` expanded it
 *   `step N/M: <what>`              about to run step N (1-based) of M
 *   `step N/M done`                 step N completed
 *   `step N/M failed: <why>`        step N failed (critical or not)
 *
 * The executor decides nothing the plan does not say, except at `Decide`, where it re-reads the drained
 * replicas and calls the pure `planPromotion`. Leadership: an audit write that cannot be committed (this node
 * is no longer the leader) stops the executor at once — a deposed leader never goes on changing MySQL state.
 */
import { Clock, Data, Duration, Effect, Either } from "effect"
import * as Gtid from "../analysis/GtidSet.js"
import * as Snapshot from "../analysis/Snapshot.js"
import { Repository } from "../backend/Repository.js"
import { AppConfig } from "../config/AppConfig.js"
import { Discovery } from "../discovery/Discovery.js"
import { TopologySql, type Statement } from "../discovery/TopologySql.js"
import { CommandLog } from "../ops/CommandLog.js"
import type { Instance } from "../topology/Instance.js"
import * as Key from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import { field, str } from "../topology/probe/RawRow.js"
import { asyncForm, commandsOf, environment, HookRunner, type HookValues, prepareCommand } from "./Hooks.js"
import { applyPromotion, planPromotion, planRegroupMoves, type RecoveryPolicy } from "./Plan.js"
import * as Sql from "./Statements.js"
import { type Dialect, encodePlan, decodePlan, describeStep, type Key as PlainKey, keyString, type Plan, type PlannedStep, type Step } from "./Step.js"

export class ExecutorError extends Data.TaggedError("ExecutorError")<{ readonly reason: string; readonly cause?: unknown }> {
  override get message(): string {
    return this.reason
  }
}

/** A step failed; `critical` says whether the plan stops. */
class StepFailed extends Data.TaggedError("StepFailed")<{ readonly reason: string }> {}

export interface ExecutionResult {
  readonly successful: boolean
  readonly plan: Plan
  readonly successor: PlainKey | null
  readonly lost: ReadonlyArray<PlainKey>
  readonly errors: ReadonlyArray<string>
}

export interface ExecutionInput {
  readonly uid: string
  readonly plan: Plan
  /** 0-based index of the first step to run (a resumed plan starts later). */
  readonly from: number
  readonly policy: RecoveryPolicy
  /** Hook values known before the run (failure type, cluster...); successor/lost/isSuccessful are filled in. */
  readonly hookValues: Omit<HookValues, "successor" | "lostReplicas" | "isSuccessful" | "recoveryUid">
  /** How long one synchronous hook may run. */
  readonly hookTimeoutMs?: number
}

const POLL = Duration.millis(20)

const sameKey = (a: PlainKey, b: PlainKey) => a.hostname === b.hostname && a.port === b.port
const ikey = (k: PlainKey): InstanceKey => Key.unsafeMake(k.hostname, k.port)

// ---- audit ------------------------------------------------------------------------------------------------

/** Writes one audit line as a replicated op; failure to commit means this node cannot go on. */
export const audit = (uid: string, message: string) =>
  Effect.gen(function*() {
    const log = yield* CommandLog
    const at = yield* Clock.currentTimeMillis
    yield* log.propose({ _tag: "write-recovery-step", recoveryUid: uid, auditAt: at, message }).pipe(
      Effect.mapError((e) => new ExecutorError({ reason: `cannot audit recovery ${uid}: ${e.message}`, cause: e }))
    )
  })

export const planMessage = (plan: Plan, from: number): string => `plan (from step ${from + 1}): ${encodePlan(plan)}`

const planRe = /^plan \(from step (\d+)\): (.*)$/s
const doneRe = /^step (\d+)\/\d+ (?:done|failed)/

/**
 * Where a recovery left off, from its audit lines in order: the last plan written, and the first step of it
 * not marked done. `undefined` when no plan was written (the leader was lost before planning).
 */
export const resumePoint = (messages: ReadonlyArray<string>): { readonly plan: Plan; readonly from: number } | undefined => {
  let found: { plan: Plan; from: number; done: Set<number> } | undefined
  for (const m of messages) {
    const p = planRe.exec(m)
    if (p !== null) {
      const decoded = decodePlan(p[2])
      if (Either.isRight(decoded)) found = { plan: decoded.right, from: Number(p[1]) - 1, done: new Set() }
      continue
    }
    const d = doneRe.exec(m)
    if (d !== null && found !== undefined) found.done.add(Number(d[1]) - 1)
  }
  if (found === undefined) return undefined
  let from = found.from
  while (from < found.plan.steps.length && found.done.has(from)) from++
  return { plan: found.plan, from }
}

// ---- SQL helpers --------------------------------------------------------------------------------------------

const dialectFor = (plan: Plan, k: PlainKey): Dialect =>
  plan.dialects[keyString(k)] ?? (plan.gtid === "mariadb" ? "mariadb" : "mysql-slave")

const exec = (k: PlainKey, statement: Statement) =>
  Effect.flatMap(TopologySql, (t) => t.execute(ikey(k), statement)).pipe(
    Effect.mapError((e) => new StepFailed({ reason: `${e.message} (${statement.text.replace(/PASSWORD=('[^']*')/g, "PASSWORD='***'")})` }))
  )

const scalar = (k: PlainKey, statement: Statement, column: string) =>
  Effect.map(exec(k, statement), (rows) => (rows[0] === undefined ? "" : str(rows[0], column)))

const coordinates = (row: Parameters<typeof field>[0]) => ({
  read: `${str(row, ["Master_Log_File", "Source_Log_File"])}:${str(row, ["Read_Master_Log_Pos", "Read_Source_Log_Pos"])}`,
  exec: `${str(row, ["Relay_Master_Log_File", "Relay_Source_Log_File"])}:${str(row, ["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"])}`,
  sqlRunning: str(row, ["Slave_SQL_Running", "Replica_SQL_Running"]),
  sqlError: str(row, ["Last_SQL_Error"]),
  sqlState: str(row, ["Slave_SQL_Running_State", "Replica_SQL_Running_State"]),
  // MariaDB: the last complete transaction received; MySQL: every GTID received.
  ioGtids: str(row, ["Gtid_IO_Pos", "Retrieved_Gtid_Set"]),
  executedGtids: str(row, ["Executed_Gtid_Set"])
})

/** A MariaDB position `has` includes `wanted` (per domain, at least its seq_no). */
const reachedMariaDb = (wanted: Gtid.MariaDbPosition, has: Gtid.MariaDbPosition): boolean => {
  const o = Gtid.compareMariaDb(wanted, has)
  return o === "equal" || o === "behind"
}

/**
 * The SQL thread waits at the end of its relay log and has applied every complete transaction the IO thread
 * received. When the master died while sending a transaction, the relay log ends with the start of it: exec
 * never reaches read (measured: read 13,983,689, exec 653 for good), yet nothing more can be applied, and STOP
 * SLAVE rolls the partial transaction back. MariaDB's Gtid_IO_Pos counts complete transactions only.
 */
const appliedAllReceived = (k: PlainKey, d: Dialect, c: ReturnType<typeof coordinates>) =>
  Effect.gen(function*() {
    if (!/has read all relay log/i.test(c.sqlState) || c.ioGtids === "") return false
    if (d === "mariadb") {
      const received = Gtid.parseMariaDb(c.ioGtids)
      const applied = Gtid.parseMariaDb(yield* scalar(k, Sql.appliedPosition("mariadb"), "pos"))
      return Either.isRight(received) && Either.isRight(applied) && reachedMariaDb(received.right, applied.right)
    }
    // MySQL counts a partial transaction's GTID as retrieved: then this stays false and the drain times out, as before.
    const received = Gtid.parse(c.ioGtids)
    const applied = Gtid.parse(c.executedGtids)
    return Either.isRight(received) && Either.isRight(applied) && Gtid.isSubset(received.right, applied.right)
  })

/**
 * Drains one replica: SQL thread first, then the IO thread stops, wait until exec = read (or until everything
 * complete that was received is applied, see appliedAllReceived), then STOP SLAVE.
 */
const drainOne = (k: PlainKey, d: Dialect, timeoutSeconds: number) =>
  Effect.gen(function*() {
    yield* exec(k, Sql.startSqlThread(d))
    yield* exec(k, Sql.stopIoThread(d))
    const wait = Effect.gen(function*() {
      for (;;) {
        const rows = yield* exec(k, Sql.showReplicationStatus(d))
        if (rows[0] === undefined) return
        const c = coordinates(rows[0])
        if (c.read === c.exec) return
        if (c.sqlRunning === "No") return yield* new StepFailed({ reason: `${keyString(k)}: SQL thread stopped while draining: ${c.sqlError}` })
        if (yield* appliedAllReceived(k, d, c)) return
        yield* Effect.sleep(POLL)
      }
    })
    yield* wait.pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(timeoutSeconds),
        onTimeout: () => new StepFailed({ reason: `${keyString(k)}: relay logs not applied within ${timeoutSeconds} s` })
      })
    )
    yield* exec(k, Sql.stopReplication(d))
  })

const waitFor = (plan: Plan, k: PlainKey, pos: string, timeoutSeconds: number) =>
  Effect.gen(function*() {
    if (pos === "") return
    const r = yield* scalar(k, Sql.waitForPosition(plan.gtid, pos, timeoutSeconds), "r")
    if (r !== "0") return yield* new StepFailed({ reason: `${keyString(k)} did not reach ${pos} within ${timeoutSeconds} s` })
  })

/**
 * Waits until `target` has applied `pos` (a replica's applied position). MySQL: WAIT_FOR_EXECUTED_GTID_SET, which works
 * on any server. MariaDB: MASTER_GTID_WAIT only follows `gtid_slave_pos`, which a master that never replicated does
 * not have, so `gtid_binlog_pos` (log_bin is required of a target) is polled and compared per domain on seq numbers.
 */
const reach = (plan: Plan, target: PlainKey, pos: string, timeoutSeconds: number) =>
  Effect.gen(function*() {
    if (pos === "") return
    if (plan.gtid === "mysql") return yield* waitFor(plan, target, pos, timeoutSeconds)
    const wanted = Gtid.parseMariaDb(pos)
    if (Either.isLeft(wanted)) return yield* new StepFailed({ reason: wanted.left })
    const poll = Effect.gen(function*() {
      for (;;) {
        const has = Gtid.parseMariaDb(yield* scalar(target, Sql.binlogPosition(plan.gtid), "pos"))
        if (Either.isRight(has) && reachedMariaDb(wanted.right, has.right)) return
        yield* Effect.sleep(POLL)
      }
    })
    yield* poll.pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(timeoutSeconds),
        onTimeout: () => new StepFailed({ reason: `${keyString(target)} did not reach ${pos} within ${timeoutSeconds} s` })
      })
    )
  })

/** Runs `f` on every key concurrently; collects per-key failures instead of stopping at the first. */
const eachKey = <R>(keys: ReadonlyArray<PlainKey>, f: (k: PlainKey) => Effect.Effect<void, StepFailed, R>) =>
  Effect.map(
    Effect.forEach(keys, (k) => Effect.either(f(k)), { concurrency: "unbounded" }),
    (results) => results.flatMap((r, i) => (Either.isLeft(r) ? [{ key: keys[i]!, reason: r.left.reason }] : []))
  )

// ---- the executor -------------------------------------------------------------------------------------------

interface RunState {
  plan: Plan
  readonly errors: Array<string>
  /** Replicas lost during execution (drain, repoint or move failures), beyond the plan's. */
  readonly lostNow: Array<PlainKey>
  promoted: boolean
  /**
   * The successor exists: a candidate was promoted, or replicas moved below the new intermediate master. Until then
   * hooks see no successor and `{isSuccessful}` false (orchestrator: `SuccessorKey != nil`).
   */
  resolved: boolean
}

/** Steps after which the plan's successor is in place. */
const resolving = (s: Step): boolean => s._tag === "Promote" || s._tag === "MoveReplicas"

const hookValuesOf = (input: ExecutionInput, state: RunState, isSuccessful: boolean): HookValues => {
  const successor = state.resolved && isSuccessful ? state.plan.successor : null
  return {
    ...input.hookValues,
    recoveryUid: input.uid,
    isSuccessful: successor !== null,
    successor: successor === null
      ? null
      : { host: successor.hostname, port: successor.port, binlogCoordinates: "", alias: keyString(successor) },
    lostReplicas: [...state.plan.lost, ...state.lostNow.filter((k) => !state.plan.lost.some((l) => sameKey(l, k)))].map(keyString)
  }
}

/** Runs every command of a hook list; audited one by one (orchestrator writes each start/finish as a step). */
export const runHooks = (uid: string, hook: Extract<Step, { _tag: "RunHooks" }>["hook"], values: HookValues, timeoutMs: number) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const runner = yield* HookRunner
    const failures: Array<string> = []
    for (const template of commandsOf(config, hook)) {
      const { command, async } = asyncForm(prepareCommand(template, values))
      yield* audit(uid, `${hook}Processes: running ${async ? "(async) " : ""}${command}`)
      const r = yield* Effect.either(runner.run(config.ProcessesShellCommand, command, environment(values), { async, timeoutMs }))
      if (Either.isLeft(r)) {
        failures.push(r.left.message)
        yield* audit(uid, `${hook}Processes: ${r.left.message}`)
      } else if (!async) {
        yield* audit(uid, `${hook}Processes: done: ${command}`)
      }
    }
    return failures
  })

const runStep = (input: ExecutionInput, state: RunState, index: number) =>
  Effect.gen(function*() {
    const plan = state.plan
    const s = plan.steps[index]!.step
    switch (s._tag) {
      case "RunHooks": {
        const failures = yield* runHooks(input.uid, s.hook, hookValuesOf(input, state, s.hook !== "PostUnsuccessfulFailover"), input.hookTimeoutMs ?? 60_000)
        if (failures.length > 0) return yield* new StepFailed({ reason: failures.join("; ") })
        return
      }
      case "DrainRelayLogs": {
        const failed = yield* eachKey(s.replicas, (k) => drainOne(k, dialectFor(plan, k), s.timeoutSeconds))
        for (const f of failed) {
          state.lostNow.push(f.key)
          state.errors.push(f.reason)
          yield* audit(input.uid, `drain failed, ${keyString(f.key)} will not be promoted: ${f.reason}`)
        }
        if (failed.length === s.replicas.length) return yield* new StepFailed({ reason: "no replica could be drained" })
        return
      }
      case "Decide": {
        const promotion = yield* decide(input, state, s.requested)
        state.plan = applyPromotion(plan, index, promotion)
        for (const note of promotion.notes) yield* audit(input.uid, note)
        yield* audit(input.uid, planMessage(state.plan, index))
        return
      }
      case "CatchUp": {
        const d = dialectFor(plan, s.candidate)
        const pos = yield* scalar(s.source, Sql.appliedPosition(plan.gtid), "pos")
        yield* exec(s.candidate, Sql.stopReplication(d))
        yield* exec(s.candidate, Sql.changeMaster(d, { host: s.source.hostname, port: s.source.port, useGtid: "slave_pos", credentials: null }))
        yield* exec(s.candidate, Sql.startReplication(d))
        yield* waitFor(plan, s.candidate, pos, s.timeoutSeconds)
        yield* exec(s.candidate, Sql.stopReplication(d))
        return
      }
      case "Promote": {
        const d = dialectFor(plan, s.candidate)
        yield* exec(s.candidate, Sql.stopReplication(d))
        if (s.apply) {
          yield* exec(s.candidate, Sql.resetReplicationAll(d))
          yield* exec(s.candidate, Sql.setReadOnly(false))
        }
        state.promoted = true
        return
      }
      case "Repoint": {
        const config = yield* AppConfig
        const credentials = s.credentials === "config" ? { user: config.MySQLReplicaUser, password: config.MySQLReplicaPassword } : null
        const failed = yield* eachKey(s.replicas, (k) =>
          Effect.gen(function*() {
            const d = dialectFor(plan, k)
            yield* exec(k, Sql.stopReplication(d))
            yield* exec(k, Sql.changeMaster(d, { host: s.master.hostname, port: s.master.port, useGtid: s.useGtid, credentials }))
            if (s.start) yield* exec(k, Sql.startReplication(d))
          }))
        for (const f of failed) {
          state.lostNow.push(f.key)
          state.errors.push(f.reason)
        }
        if (failed.length > 0) return yield* new StepFailed({ reason: failed.map((f) => f.reason).join("; ") })
        return
      }
      case "MoveReplicas": {
        // Replicas whose drain failed stay where they are (lost): moving them would drop what they received.
        const moving = s.replicas.filter((k) => !state.lostNow.some((l) => sameKey(l, k)))
        if (moving.length === 0) return yield* new StepFailed({ reason: "no replica left to move" })
        const failed = yield* eachKey(moving, (k) =>
          Effect.gen(function*() {
            const d = dialectFor(plan, k)
            const applied = yield* scalar(k, Sql.appliedPosition(plan.gtid), "pos")
            yield* reach(plan, s.target, applied, s.timeoutSeconds)
            yield* exec(k, Sql.stopReplication(d))
            yield* exec(k, Sql.changeMaster(d, { host: s.target.hostname, port: s.target.port, useGtid: "slave_pos", credentials: null }))
            yield* exec(k, Sql.startReplication(d))
          }))
        for (const f of failed) {
          state.lostNow.push(f.key)
          state.errors.push(f.reason)
          yield* audit(input.uid, `${keyString(f.key)} not moved (lost): ${f.reason}`)
        }
        if (failed.length === moving.length) return yield* new StepFailed({ reason: `no replica moved below ${keyString(s.target)}` })
        return
      }
      case "Downtime": {
        const log = yield* CommandLog
        const now = yield* Clock.currentTimeMillis
        const keys = [...s.keys, ...state.lostNow.filter((k) => !s.keys.some((x) => sameKey(x, k)))]
        for (const k of keys) {
          yield* log.propose({ _tag: "begin-downtime", key: k, owner: "orchestrator", reason: s.reason, beginTimestamp: now, endTimestamp: now + s.seconds * 1000 })
            .pipe(Effect.mapError((e) => new ExecutorError({ reason: e.message, cause: e })))
        }
        return
      }
      case "EndDowntime": {
        const log = yield* CommandLog
        yield* log.propose({ _tag: "end-downtime", key: s.key }).pipe(Effect.mapError((e) => new ExecutorError({ reason: e.message, cause: e })))
        return
      }
      case "DetachMasterHost": {
        const failed = yield* eachKey(s.keys, (k) =>
          Effect.gen(function*() {
            const d = dialectFor(plan, k)
            yield* exec(k, Sql.stopReplication(d))
            yield* exec(k, Sql.detachMasterHost(d, plan.target.hostname, plan.target.port))
          }))
        if (failed.length > 0) return yield* new StepFailed({ reason: failed.map((f) => f.reason).join("; ") })
        return
      }
      case "SetReadOnly": {
        // A hung (SIGSTOPped) server must not hold the recovery: the statement gets a short deadline.
        yield* exec(s.key, Sql.setReadOnly(s.readOnly)).pipe(
          Effect.timeoutFail({ duration: Duration.seconds(3), onTimeout: () => new StepFailed({ reason: `${keyString(s.key)}: no answer within 3 s` }) })
        )
        return
      }
      case "WaitCaughtUp": {
        const pos = yield* scalar(s.master, Sql.binlogPosition(plan.gtid), "pos")
        yield* waitFor(plan, s.replica, pos, s.timeoutSeconds)
        return
      }
      case "StopReplication": {
        const failed = yield* eachKey(s.keys, (k) => Effect.asVoid(exec(k, Sql.stopReplication(dialectFor(plan, k)))))
        if (failed.length > 0) return yield* new StepFailed({ reason: failed.map((f) => f.reason).join("; ") })
        return
      }
      case "StartReplication": {
        const failed = yield* eachKey(s.keys, (k) => Effect.asVoid(exec(k, Sql.startReplication(dialectFor(plan, k)))))
        if (failed.length > 0) return yield* new StepFailed({ reason: failed.map((f) => f.reason).join("; ") })
        return
      }
    }
  })

/** `Decide`: re-read the failed master's (or regrouped instance's) replicas (drained ones fresh), then the pure candidate choice. */
const decide = (input: ExecutionInput, state: RunState, requested: PlainKey | null) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const discovery = yield* Discovery
    const snapshot = yield* Snapshot.readWithConfig(config).pipe(
      Effect.mapError((e) => new StepFailed({ reason: `cannot read the backend: ${e.message}` }))
    )
    const target = ikey(state.plan.target)
    const stored = Snapshot.replicasOf(snapshot, target)
    const invalid = (i: Instance): Instance => ({ ...i, lastCheckValid: false, lastCheckedAt: (i.lastSeenAt ?? 0) + 1 })
    const fresh = yield* Effect.forEach(stored, (r) => {
      if (state.lostNow.some((k) => sameKey(k, r.key)) || state.plan.lost.some((k) => sameKey(k, r.key))) return Effect.succeed(invalid(r))
      return discovery.refresh(r.key).pipe(Effect.orElseSucceed(() => invalid(r)))
    }, { concurrency: "unbounded" })
    if (state.plan.kind === "Regroup") {
      // Regroup compares drained positions only: a replica whose drain failed would be moved (or chosen) on a
      // position that is not what it will have applied, so the regroup stops and the rollback restarts everyone.
      const undrained = state.lostNow.filter((k) => stored.some((r) => sameKey(r.key, k)))
      if (undrained.length > 0) return yield* new StepFailed({ reason: `could not drain ${undrained.map(keyString).join(", ")}: regroup needs every replica` })
      const master = snapshot.instances.get(Key.format(target))
      if (master === undefined) return yield* new StepFailed({ reason: `${keyString(state.plan.target)} is unknown` })
      const freshKeys = new Set(fresh.map((r) => Key.format(r.key)))
      const regroup = planRegroupMoves(state.plan, {
        master,
        replicas: fresh,
        all: [...[...snapshot.instances.values()].filter((i) => !freshKeys.has(Key.format(i.key))), ...fresh],
        ruleOf: (k) => Snapshot.promotionRuleOf(snapshot, k),
        policy: input.policy
      })
      if (Either.isLeft(regroup)) return yield* new StepFailed({ reason: regroup.left.reason })
      return regroup.right
    }
    const promotion = planPromotion({
      plan: state.plan,
      master: snapshot.instances.get(Key.format(target)) ?? null,
      replicas: fresh,
      ruleOf: (k) => Snapshot.promotionRuleOf(snapshot, k),
      requested: requested === null ? null : ikey(requested),
      policy: input.policy
    })
    if (Either.isLeft(promotion)) return yield* new StepFailed({ reason: promotion.left.reason })
    return promotion.right
  })

/**
 * Runs `input.plan` from `input.from`. Critical failures stop the plan (and run its rollback when nothing was
 * promoted yet); non-critical ones are recorded. Fails only with ExecutorError (leadership lost, audit
 * impossible); a failed recovery is a result with `successful: false`.
 */
export const execute = (input: ExecutionInput) =>
  Effect.gen(function*() {
    const before = input.plan.steps.slice(0, input.from)
    const state: RunState = {
      plan: input.plan,
      errors: [],
      lostNow: [],
      promoted: before.some((s) => s.step._tag === "Promote"),
      resolved: before.some((s) => resolving(s.step))
    }
    let failedCritical: string | undefined
    for (let i = input.from; i < state.plan.steps.length; i++) {
      const planned: PlannedStep = state.plan.steps[i]!
      const n = `${i + 1}/${state.plan.steps.length}`
      yield* audit(input.uid, `step ${n}: ${describeStep(planned.step)}`)
      const r = yield* Effect.either(runStep(input, state, i))
      if (Either.isRight(r)) {
        // `Decide` replaced itself by the promotion steps (audited as a new plan from this index): run them.
        if (planned.step._tag === "Decide") i--
        else yield* audit(input.uid, `step ${n} done`)
        if (resolving(planned.step)) state.resolved = true
        continue
      }
      if (r.left._tag === "ExecutorError") return yield* r.left
      state.errors.push(r.left.reason)
      yield* audit(input.uid, `step ${n} failed: ${r.left.reason}`)
      if (planned.critical) {
        failedCritical = r.left.reason
        break
      }
    }
    if (failedCritical !== undefined && !state.promoted) {
      for (const rb of state.plan.rollback) {
        yield* audit(input.uid, `rollback: ${describeStep(rb.step)}`)
        const r = yield* Effect.either(runStep(input, { ...state, plan: { ...state.plan, steps: [rb] } }, 0))
        if (Either.isLeft(r)) {
          if (r.left._tag === "ExecutorError") return yield* r.left
          yield* audit(input.uid, `rollback failed: ${r.left.reason}`)
        }
      }
    }
    const result: ExecutionResult = {
      successful: failedCritical === undefined,
      plan: state.plan,
      successor: failedCritical === undefined ? state.plan.successor : state.promoted ? state.plan.successor : null,
      lost: [...state.plan.lost, ...state.lostNow.filter((k) => !state.plan.lost.some((l) => sameKey(l, k)))],
      errors: state.errors
    }
    // The backend should show the new topology at once (the next failure is judged on it), not after a poll.
    const touched = state.plan.steps.flatMap((p) =>
      p.step._tag === "Repoint"
        ? [...p.step.replicas, p.step.master]
        : p.step._tag === "MoveReplicas"
        ? [...p.step.replicas, p.step.target]
        : p.step._tag === "Promote"
        ? [p.step.candidate]
        : []
    )
    yield* Effect.flatMap(Discovery, (d) => d.expedite(touched.map(ikey)))
    if (!result.successful && input.policy.runHooks) {
      yield* runHooks(input.uid, "PostUnsuccessfulFailover", hookValuesOf(input, state, false), input.hookTimeoutMs ?? 60_000)
    }
    return result
  })

/** The ids of the services the executor needs, for layer wiring. */
export type ExecutorServices = TopologySql | Discovery | HookRunner | CommandLog | Repository | AppConfig
