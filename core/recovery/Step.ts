/**
 * Recovery and refactoring plans as data. A plan is an ordered list of steps, each a Schema value, so it
 * can be written into the recovery's audit (`write-recovery-step`, replicated) and read back by the next
 * leader, which resumes from the first step not marked done (orchestrator issue #1296 is the anti-example:
 * a leader lost mid-recovery left the cluster blocked for RecoveryPeriodBlockSeconds).
 *
 * Every step is idempotent on MySQL (re-running STOP SLAVE / CHANGE MASTER / RESET SLAVE ALL / read_only
 * reaches the same state), which is what makes "re-run the first unfinished step" safe.
 */
import { Schema } from "effect"
import { Key } from "../ops/Op.js"

export { Key }

/** orchestrator's hook lists (`*Processes` config keys without the suffix). */
export const Hook = Schema.Literal(
  "OnFailureDetection",
  "PreFailover",
  "PostMasterFailover",
  "PostIntermediateMasterFailover",
  "PostFailover",
  "PostUnsuccessfulFailover",
  "PreGracefulTakeover",
  "PostGracefulTakeover",
  "PostTakeMaster"
)
export type Hook = typeof Hook.Type

/** How a server is told where to replicate from: MariaDB `MASTER_USE_GTID`, MySQL auto-position. */
export const GtidKind = Schema.Literal("mariadb", "mysql")
export type GtidKind = typeof GtidKind.Type

/** Which statement spelling a server understands (MySQL 8.0.22+ renamed SLAVE → REPLICA). */
export const Dialect = Schema.Literal("mariadb", "mysql-slave", "mysql-replica")
export type Dialect = typeof Dialect.Type

const Keys = Schema.Array(Key)
const Seconds = Schema.Number.pipe(Schema.nonNegative())

/** Runs the hook list from the configuration; `abortOnFailure` = a non-zero exit fails the step. */
export const RunHooks = Schema.TaggedStruct("RunHooks", { hook: Hook, abortOnFailure: Schema.Boolean })
/**
 * Per replica: START SLAVE SQL_THREAD; STOP SLAVE IO_THREAD; wait until the SQL thread has executed
 * everything the IO thread received (exec = read coordinates); STOP SLAVE. The SQL thread is started
 * *before* anything stops the IO thread: with MariaDB GTID, relay logs are dropped once both threads are
 * stopped (mariadb.md §5 gotcha 1, openark/orchestrator PR #1264).
 */
export const DrainRelayLogs = Schema.TaggedStruct("DrainRelayLogs", { replicas: Keys, timeoutSeconds: Seconds })
/** Phase boundary: re-read the drained replicas, choose the candidate (pure), append the promotion steps. */
export const Decide = Schema.TaggedStruct("Decide", { requested: Schema.NullOr(Key) })
/** The candidate replicates from `source` (a more advanced replica) until it has `source`'s position. */
export const CatchUp = Schema.TaggedStruct("CatchUp", { candidate: Key, source: Key, timeoutSeconds: Seconds })
/** STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0 (only STOP SLAVE when `apply` is false). */
export const Promote = Schema.TaggedStruct("Promote", { candidate: Key, apply: Schema.Boolean })
/**
 * Per replica: STOP SLAVE; CHANGE MASTER TO the new master by GTID; START SLAVE (unless `start` is false).
 * `credentials: "config"` also sets MASTER_USER/PASSWORD from MySQLReplicaUser (a former master has none).
 */
export const Repoint = Schema.TaggedStruct("Repoint", {
  replicas: Keys,
  master: Key,
  start: Schema.Boolean,
  credentials: Schema.Literal("keep", "config"),
  /** MariaDB: `slave_pos` normally; `current_pos` when the replica was a master (its own writes count). */
  useGtid: Schema.Literal("slave_pos", "current_pos")
})
/**
 * Dead intermediate master: per replica (those not lost while draining), the target first applies everything the
 * replica applied (a sibling target may lag; MariaDB `gtid_binlog_pos` polled per domain, MySQL
 * `WAIT_FOR_EXECUTED_GTID_SET`), then STOP SLAVE; CHANGE MASTER TO the target by GTID (`slave_pos`, credentials
 * kept); START SLAVE. A replica that cannot move is lost; the step fails only when none moved (orchestrator's
 * `RelocateReplicas`: one relocated replica resolves the recovery).
 */
export const MoveReplicas = Schema.TaggedStruct("MoveReplicas", { replicas: Keys, target: Key, timeoutSeconds: Seconds })
/** Replicated `begin-downtime` for each key (and for every replica lost while the plan ran). */
export const Downtime = Schema.TaggedStruct("Downtime", { keys: Keys, reason: Schema.String, seconds: Seconds })
export const EndDowntime = Schema.TaggedStruct("EndDowntime", { key: Key })
/** orchestrator `DetachReplicaMasterHost`: STOP SLAVE; CHANGE MASTER TO MASTER_HOST='//host' (reversible). */
export const DetachMasterHost = Schema.TaggedStruct("DetachMasterHost", { keys: Keys })
export const SetReadOnly = Schema.TaggedStruct("SetReadOnly", { key: Key, readOnly: Schema.Boolean })
/** Waits until `replica` has applied everything `master` has written (graceful takeover, take-master). */
export const WaitCaughtUp = Schema.TaggedStruct("WaitCaughtUp", { replica: Key, master: Key, timeoutSeconds: Seconds })
export const StopReplication = Schema.TaggedStruct("StopReplication", { keys: Keys })
export const StartReplication = Schema.TaggedStruct("StartReplication", { keys: Keys })

export const Step = Schema.Union(
  RunHooks,
  DrainRelayLogs,
  Decide,
  CatchUp,
  Promote,
  Repoint,
  MoveReplicas,
  Downtime,
  EndDowntime,
  DetachMasterHost,
  SetReadOnly,
  WaitCaughtUp,
  StopReplication,
  StartReplication
)
export type Step = typeof Step.Type

/** A step with its failure policy and the reason it is there (audited with it). */
export const PlannedStep = Schema.Struct({
  step: Step,
  /** A failing critical step fails the plan; a non-critical failure is recorded and the plan goes on. */
  critical: Schema.Boolean,
  why: Schema.String
})
export type PlannedStep = typeof PlannedStep.Type

export const PlanKind = Schema.Literal(
  "DeadMaster",
  "DeadIntermediateMaster",
  "DeadCoMaster",
  "GracefulMasterTakeover",
  "Relocate",
  "Regroup",
  "TakeMaster",
  "MakeCoMaster"
)
export type PlanKind = typeof PlanKind.Type

export const Plan = Schema.Struct({
  kind: PlanKind,
  /** The failed (or operated-on) instance. */
  target: Key,
  clusterName: Schema.String,
  gtid: GtidKind,
  /** `host:port` → statement spelling, for every server a step touches. */
  dialects: Schema.Record({ key: Schema.String, value: Dialect }),
  successor: Schema.NullOr(Key),
  lost: Keys,
  steps: Schema.Array(PlannedStep),
  /** Run, in order, when a critical step fails before any Promote step has completed. */
  rollback: Schema.Array(PlannedStep),
  /** Decision log (candidate selection and the like), audited when the plan is written. */
  notes: Schema.Array(Schema.String)
})
export type Plan = typeof Plan.Type

export const PlanJson = Schema.parseJson(Plan)
export const encodePlan = Schema.encodeSync(PlanJson)
export const decodePlan = Schema.decodeUnknownEither(PlanJson)

export const keyString = (k: { readonly hostname: string; readonly port: number }): string => `${k.hostname}:${k.port}`
const keys = (ks: ReadonlyArray<Key>) => ks.map(keyString).join(", ") || "none"

/** One line per step, for the audit and for golden tests. */
export const describeStep = (s: Step): string => {
  switch (s._tag) {
    case "RunHooks":
      return `run ${s.hook}Processes${s.abortOnFailure ? " (a failure aborts)" : ""}`
    case "DrainRelayLogs":
      return `drain relay logs on ${keys(s.replicas)} (SQL thread first), then stop replication`
    case "Decide":
      return `re-read positions and choose the candidate${s.requested === null ? "" : ` (requested ${keyString(s.requested)})`}`
    case "CatchUp":
      return `${keyString(s.candidate)} catches up from ${keyString(s.source)}`
    case "Promote":
      return `promote ${keyString(s.candidate)}${s.apply ? ": RESET SLAVE ALL, read_only=0" : " (no MySQL promotion)"}`
    case "Repoint":
      return `repoint ${keys(s.replicas)} to ${keyString(s.master)} by GTID (${s.useGtid})${s.start ? "" : " without starting"}`
    case "MoveReplicas":
      return `move ${keys(s.replicas)} below ${keyString(s.target)} by GTID (slave_pos), once ${keyString(s.target)} has what each applied`
    case "Downtime":
      return s.keys.length === 0
        ? `downtime the replicas lost during the run, if any (${s.reason})`
        : `downtime ${keys(s.keys)} (${s.reason})`
    case "EndDowntime":
      return `end downtime of ${keyString(s.key)}`
    case "DetachMasterHost":
      return `detach ${keys(s.keys)} from their master host`
    case "SetReadOnly":
      return `set ${keyString(s.key)} read_only=${s.readOnly ? 1 : 0}`
    case "WaitCaughtUp":
      return `wait until ${keyString(s.replica)} has applied ${keyString(s.master)}'s binlog`
    case "StopReplication":
      return `stop replication on ${keys(s.keys)}`
    case "StartReplication":
      return `start replication on ${keys(s.keys)}`
  }
}
