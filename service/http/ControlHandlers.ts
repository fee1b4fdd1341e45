/**
 * Handlers of core/api/routes/Control.ts: replication and instance control with orchestrator's checks,
 * messages and JSON (go/http/api.go, go/inst/instance_topology_dao.go, instance_topology.go), statements from
 * core/topology/Control.ts sent through TopologySql.
 *
 * Like orchestrator's `ReadTopologyInstance`, every operation probes the server first (its decisions must not
 * rest on a poll that may be seconds old) and again after, so the answer's Details — and this node's backend —
 * show the instance as it now is. Operations that change a server hold the cluster's lock
 * (`Recoveries.exclusive`, the one recoveries and refactorings take): no two topology changes of one cluster
 * interleave. The recovery loop skips a locked cluster until its next pass; an operation waits for the lock.
 *
 * Deliberate differences (docs/compat.md): skip-query on a MariaDB GTID replica skips with
 * sql_slave_skip_counter (MariaDB supports it; orchestrator refuses); the semi-sync "priority" steps of
 * start-replica / set-read-only are not taken (DetectSemiSyncEnforcedQuery has no effect here); operations that
 * take orchestrator's maintenance lock refuse an instance already under maintenance instead of taking one.
 */
import { Clock, Duration, Effect, Either, Schedule } from "effect"
import * as net from "node:net"
import { type ApiFailure, ok } from "../../core/api/Envelope.js"
import { Repository, type RepositoryError } from "../../core/backend/Repository.js"
import { AppConfig } from "../../core/config/AppConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { type Statement, TopologySql } from "../../core/discovery/TopologySql.js"
import * as Views from "../../core/discovery/Views.js"
import * as C from "../../core/topology/Control.js"
import type { Instance } from "../../core/topology/Instance.js"
import * as Model from "../../core/topology/Instance.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { Recoveries } from "../Recovery.js"
import { fail, type RequestContext } from "./Api.js"
import { clusterNameOf, snapshot, topology } from "./InstanceHandlers.js"
import { sqlTimestamp } from "./MetaHandlers.js"
import { envelope, json } from "./Reply.js"

type InstanceParams = { readonly host: string; readonly port: number }
type BelowParams = InstanceParams & { readonly belowHost: string; readonly belowPort: number }

/** orchestrator's `ReplicationNotRunningError`. */
const REPLICATION_NOT_RUNNING = "Replication not running"
/** Empty transactions sent per round trip by gtid-errant-inject-empty, and the most it injects at all. */
const INJECT_BATCH = 100
const INJECT_LIMIT = 100_000

const keyOf = (host: string, port: number) =>
  Either.match(Key.make(host, port), {
    onLeft: (e) => fail(e.message, null, 400),
    onRight: (k) => Effect.succeed(k)
  })

const keyJson = (k: InstanceKey) => ({ Hostname: k.hostname, Port: k.port })

const backend = <A, R>(effect: Effect.Effect<A, RepositoryError, R>) =>
  effect.pipe(Effect.catchTag("RepositoryError", (e) => fail(e.message)))

/** orchestrator `ReadTopologyInstance`: probe now, store, return. */
const probe = (key: InstanceKey) =>
  Effect.flatMap(Discovery, (d) => d.refresh(key)).pipe(Effect.catchAll((e) => fail(e.message)))

const exec = (key: InstanceKey, statement: Statement) =>
  Effect.flatMap(TopologySql, (t) => t.execute(key, statement)).pipe(
    Effect.catchTag("TopologySqlError", (e) => fail(e.message))
  )

/** The Instance JSON as the instance routes serve it (downtime and promotion rule joined in). */
const answer = (message: string, i: Instance) =>
  Effect.map(snapshot, (s) => envelope(ok(message, s.encode(s.find(i.key) ?? i))))

/** How long an operation waits for its cluster's lock before giving up. */
const LOCK_WAIT = Duration.seconds(10)

/**
 * One topology change per cluster at a time (the lock recoveries and refactorings hold). A busy cluster is waited
 * for, briefly: orchestrator takes no such lock, so scripts that stop or start several replicas of one cluster
 * in parallel must still succeed; only a long recovery makes an operation give up.
 */
const exclusive = <A, R>(i: Instance, effect: (waited: boolean) => Effect.Effect<A, ApiFailure, R>) =>
  Effect.gen(function*() {
    const recoveries = yield* Recoveries
    let attempts = 0
    // `waited`: the lock was busy at first, so what was probed before it may be stale (probe again under it).
    return yield* Effect.suspend(() => recoveries.exclusive(i.clusterName, effect(attempts++ > 0))).pipe(
      Effect.retry({
        while: (e) => e._tag === "ClusterBusy",
        schedule: Schedule.spaced(Duration.millis(50)).pipe(Schedule.upTo(LOCK_WAIT))
      }),
      Effect.catchTag("ClusterBusy", () =>
        fail(`cluster ${i.clusterName} is busy: a recovery or another topology operation has been running for over ${Duration.format(LOCK_WAIT)}; retry later`))
    )
  })

/** orchestrator's BeginMaintenance refusal: an instance someone holds under maintenance is left alone. */
const notInMaintenance = (key: InstanceKey) =>
  Effect.gen(function*() {
    const repo = yield* Repository
    const now = yield* Clock.currentTimeMillis
    const held = (yield* backend(repo.readActiveMaintenance(now))).find((m) => m.key.hostname === key.hostname && m.key.port === key.port)
    if (held !== undefined) {
      return yield* fail(`Cannot begin maintenance on ${Key.format(key)}: already under maintenance by ${held.owner}: ${held.reason}`)
    }
  })

const notAReplica = (key: InstanceKey) => fail(`instance is not a replica: ${Key.format(key)}`)

/**
 * orchestrator `waitForReplicationState`: after START/STOP, poll SHOW SLAVE STATUS (10 ms, doubling) for up to
 * a second until both threads are in `state`. Errors count as "not yet".
 */
const waitForThreads = (key: InstanceKey, s: C.Syntax, state: "running" | "stopped") =>
  Effect.gen(function*() {
    const sqlService = yield* TopologySql
    const start = yield* Clock.currentTimeMillis
    let interval = 10
    for (;;) {
      const rows = yield* Effect.either(sqlService.execute(key, C.showReplicaStatus(s)))
      if (Either.isRight(rows) && C.threadsAre(C.threadsStatus(rows.right), state)) return true
      const now = yield* Clock.currentTimeMillis
      if (now - start + interval > 1000) return false
      yield* Effect.sleep(Duration.millis(interval))
      interval *= 2
    }
  })

/** orchestrator `StopReplication`. */
const stopReplicationOn = (i: Instance) =>
  Effect.gen(function*() {
    if (!Model.isReplica(i)) return yield* notAReplica(i.key)
    yield* exec(i.key, C.stopReplication(C.syntaxOf(i)))
    return yield* probe(i.key)
  })

/** orchestrator `StartReplication`: start, wait for both threads, and fail unless they run. */
const startReplicationOn = (i: Instance) =>
  Effect.gen(function*() {
    if (!Model.isReplica(i)) return yield* notAReplica(i.key)
    const s = C.syntaxOf(i)
    yield* exec(i.key, C.startReplication(s))
    yield* waitForThreads(i.key, s, "running")
    const after = yield* probe(i.key)
    if (!Model.replicaRunning(after)) return yield* fail(REPLICATION_NOT_RUNNING)
    return after
  })

/**
 * orchestrator's `Cleanup:` label: whatever `body` did, start replication again (ignoring a failure to start: a
 * detached or reset replica cannot), then report `body`'s error if any, else the instance as it now is.
 */
const thenStart = <R>(key: InstanceKey, body: Effect.Effect<unknown, ApiFailure, R>) =>
  Effect.gen(function*() {
    const outcome = yield* Effect.either(body)
    const now = yield* probe(key)
    const started = Model.isReplica(now) ? yield* Effect.either(startReplicationOn(now)) : Either.right(now)
    if (Either.isLeft(outcome)) return yield* Effect.fail(outcome.left)
    return Either.isRight(started) ? started.right : yield* probe(key)
  })

/** orchestrator `ChangeMasterTo`'s precondition. */
const threadsStopped = (i: Instance) =>
  Model.replicationThreadsExist(i) && !Model.replicationThreadsStopped(i)
    ? fail(`ChangeMasterTo: Cannot change master on: ${Key.format(i.key)} because replication threads are not stopped`)
    : Effect.void

/**
 * An instance operation: probe, run `op` under the cluster lock, answer `message` with the instance it returns.
 */
const control = <R>(
  message: (key: string) => string,
  op: (i: Instance) => Effect.Effect<Instance, ApiFailure, R>
) =>
(p: InstanceParams) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const before = yield* probe(key)
    const after = yield* exclusive(before, (waited) => (waited ? Effect.flatMap(probe(key), op) : op(before)))
    return yield* answer(message(Key.format(key)), after)
  })

// ---- operations ---------------------------------------------------------------------------------------------------

const start = control((k) => `Replica started: ${k}`, startReplicationOn)
const stop = control((k) => `Replica stopped: ${k}`, stopReplicationOn)
const restart = control((k) => `Replica restarted: ${k}`, (i) => Effect.flatMap(stopReplicationOn(i), startReplicationOn))

/**
 * orchestrator `StopReplicationNicely`: stop the IO thread, let the SQL thread apply what was received (unless
 * the replica is delayed on purpose), then stop. Waits while the SQL thread makes progress; gives up after
 * ReasonableReplicationLagSeconds without any.
 */
const stopNice = control((k) => `Replica stopped nicely: ${k}`, (i) =>
  Effect.gen(function*() {
    if (!Model.replicationThreadsExist(i)) return yield* notAReplica(i.key)
    const s = C.syntaxOf(i)
    yield* exec(i.key, C.stopReplication(s, "IO_THREAD"))
    yield* exec(i.key, C.startReplication(s, "SQL_THREAD"))
    if (Model.sqlDelay(i) === 0) {
      const config = yield* AppConfig
      const staleMs = config.ReasonableReplicationLagSeconds * 1000
      let lastExec = ""
      let progressAt = yield* Clock.currentTimeMillis
      for (;;) {
        const t = C.threadsStatus(yield* exec(i.key, C.showReplicaStatus(s)))
        if (t === undefined) return yield* notAReplica(i.key)
        if (C.sqlThreadUpToDate(t)) break
        const now = yield* Clock.currentTimeMillis
        const at = `${t.exec.logFile}:${t.exec.logPos}`
        if (at !== lastExec) {
          lastExec = at
          progressAt = now
        } else if (now - progressAt > staleMs) {
          return yield* fail(
            `WaitForSQLThreadUpToDate stale coordinates timeout on ${Key.format(i.key)} after duration ${config.ReasonableReplicationLagSeconds}s`
          )
        }
        yield* Effect.sleep(Duration.millis(100))
      }
    }
    yield* exec(i.key, C.stopReplication(s))
    return yield* probe(i.key)
  }))

/** orchestrator `ResetReplicationOperation`: stop, forget the master (dummy host, then RESET ... ALL). */
const reset = control((k) => `Replica reset on ${k}`, (i) =>
  Effect.gen(function*() {
    yield* notInMaintenance(i.key)
    return yield* thenStart(i.key, Effect.gen(function*() {
      const stopped = Model.isReplica(i) ? yield* stopReplicationOn(i) : i
      if (Model.replicationThreadsExist(stopped) && !Model.replicationThreadsStopped(stopped)) {
        return yield* fail(`Cannot reset replication on: ${Key.format(i.key)} because replication threads are not stopped`)
      }
      const s = C.syntaxOf(stopped)
      yield* exec(i.key, C.changeSourceToDummyHost(s))
      yield* exec(i.key, C.resetReplicaAll(s))
    }))
  }))

/**
 * orchestrator `DetachReplicaMasterHost` / `ReattachReplicaMasterHost`: rewrite the master host to `//host` (or
 * back), keeping the position (GTID, or the exec coordinates), so replication stops but can be resumed.
 */
const rewriteMasterHost = (detach: boolean) => (i: Instance) =>
  Effect.gen(function*() {
    const master = Model.masterKey(i)
    if (!Model.isReplica(i) || master === null) return yield* notAReplica(i.key)
    if (detach && Key.isDetached(master)) return yield* fail(`instance already detached: ${Key.format(i.key)}`)
    if (!detach && !Key.isDetached(master)) return yield* fail(`instance does not seem to be detached: ${Key.format(i.key)}`)
    yield* notInMaintenance(i.key)
    const host = detach ? C.detachedHost(master.hostname) : C.reattachedHost(master.hostname)
    return yield* thenStart(i.key, Effect.gen(function*() {
      const stopped = yield* stopReplicationOn(i)
      yield* threadsStopped(stopped)
      yield* exec(i.key, C.repointStatement(C.syntaxOf(stopped), stopped, host, master.port, "neutral"))
    }))
  })
const detach = control((k) => `Replica detached: ${k}`, rewriteMasterHost(true))
const reattach = control((k) => `Replica reattached: ${k}`, rewriteMasterHost(false))

/**
 * orchestrator `SkipQuery`: a replica whose SQL thread stopped on an error skips that one transaction and starts
 * again. MySQL GTID: commit an empty transaction with the failed GTID (the skip counter does not apply to
 * auto-position); otherwise the skip counter — on MariaDB GTID replication too, where the skipped event group
 * still advances gtid_slave_pos (orchestrator refuses MariaDB GTID and asks to disable GTID first). MariaDB itself
 * refuses the counter with parallel replication over several domains (error 1966), which is answered as is.
 */
const skipQuery = control((k) => `Query skipped on ${k}`, (i) =>
  Effect.gen(function*() {
    const k = Key.format(i.key)
    if (!Model.isReplica(i) || i.replication === null) return yield* notAReplica(i.key)
    if (Model.sqlThreadState(i) === "running") return yield* fail(`Replication SQL thread is running on ${k}`)
    if (i.replication.lastSqlError === "") return yield* fail(`No SQL error on ${k}`)
    if (Model.usingOracleGtid(i)) {
      const executed = i.executedGtidSet !== "" ? i.executedGtidSet : i.replication.executedGtidSet
      const gtid = C.failedGtid(executed, i.replication.retrievedGtidSet)
      if (Either.isLeft(gtid)) return yield* fail(`Empty NextGTID() in skipQueryGtid() for ${k}: ${gtid.left}`)
      yield* exec(i.key, C.injectEmpty([gtid.right])).pipe(
        // A failure may leave the session's GTID_NEXT set: reset it before the connection is reused.
        Effect.tapError(() => Effect.ignore(exec(i.key, C.gtidNextAutomatic)))
      )
    } else {
      yield* exec(i.key, C.skipOneEvent(C.syntaxOf(i)))
    }
    return yield* startReplicationOn(yield* probe(i.key))
  }))

const setReadOnly = (readOnly: boolean) =>
  control(() => (readOnly ? "Server set as read-only" : "Server set as writeable"), (i) =>
    Effect.zipRight(exec(i.key, C.setReadOnly(readOnly)), probe(i.key)))

const flush = control((k) => `Binary logs flushed on: ${k}`, (i) => Effect.zipRight(exec(i.key, C.flushBinaryLogs), probe(i.key)))

/** orchestrator `SetSemiSyncMaster`. */
const semiSyncMaster = (enable: boolean) =>
  control(() => `master semi-sync set to ${enable}`, (i) =>
    Effect.zipRight(exec(i.key, C.setSemiSyncMaster(i.semiSync.naming, enable)), probe(i.key)))

/** orchestrator `SetSemiSyncReplica`: the IO thread reconnects for the change to apply. */
const semiSyncReplica = (enable: boolean) =>
  control(() => `replica semi-sync set to ${enable}`, (i) =>
    Effect.gen(function*() {
      if (i.semiSync.replicaEnabled === enable) return i
      const s = C.syntaxOf(i)
      yield* exec(i.key, C.setSemiSyncReplica(i.semiSync.naming, enable))
      if (Model.ioThreadState(i) === "running") {
        yield* Effect.ignore(exec(i.key, C.stopReplication(s, "IO_THREAD")))
        yield* exec(i.key, C.startReplication(s, "IO_THREAD"))
      }
      return yield* probe(i.key)
    }))

/**
 * orchestrator `Repoint(instance, its own master, hint)`, which enable-gtid / disable-gtid are: check the master
 * can be replicated from, stop, CHANGE MASTER with GTID forced on or off, start.
 */
const repointToOwnMaster = (i: Instance, hint: "force" | "deny") =>
  Effect.gen(function*() {
    const masterKey = Model.masterKey(i)
    if (!Model.isReplica(i) || masterKey === null) return yield* notAReplica(i.key)
    const probed = yield* Effect.either(probe(masterKey))
    const master = Either.isRight(probed) ? probed.right : (yield* snapshot).find(masterKey)
    if (master === undefined) return yield* fail(`Cannot read instance: ${Key.format(masterKey)}`)
    const config = yield* AppConfig
    const refusal = C.cannotReplicateFrom(i, master, config.ReasonableMaintenanceReplicationLagSeconds)
    if (refusal !== null) return yield* fail(refusal)
    yield* notInMaintenance(i.key)
    return yield* thenStart(i.key, Effect.gen(function*() {
      const stopped = yield* stopReplicationOn(i)
      yield* threadsStopped(stopped)
      yield* exec(i.key, C.repointStatement(C.syntaxOf(stopped), stopped, masterKey.hostname, masterKey.port, hint))
    }))
  })

const enableGtid = control((k) => `Enabled GTID on ${k}`, (i) =>
  Effect.gen(function*() {
    if (Model.usingGtid(i)) return yield* fail(`${Key.format(i.key)} already uses GTID`)
    const after = yield* repointToOwnMaster(i, "force")
    if (!Model.usingGtid(after)) return yield* fail(`Cannot enable GTID on ${Key.format(i.key)}`)
    return after
  }))

const disableGtid = control((k) => `Disabled GTID on ${k}`, (i) =>
  Effect.gen(function*() {
    if (!Model.usingGtid(i)) return yield* fail(`${Key.format(i.key)} is not using GTID`)
    const after = yield* repointToOwnMaster(i, "deny")
    if (Model.usingGtid(after)) return yield* fail(`Cannot disable GTID on ${Key.format(i.key)}`)
    return after
  }))

/** A destructive step tried a few times (orchestrator retries 5 times, 5 s apart; 3 times 1 s apart here). */
const retried = <A, R>(effect: Effect.Effect<A, ApiFailure, R>) =>
  Effect.retry(effect, { schedule: Schedule.spaced(Duration.seconds(1)), times: 2 })

/**
 * orchestrator `ErrantGTIDResetMaster`: on a MySQL GTID server without replicas, RESET MASTER and set gtid_purged
 * to what was executed minus the errant transactions, so they vanish without breaking future replicas.
 */
const errantResetMaster = control((k) => `Removed errant GTID on ${k} and issued a RESET MASTER`, (i) =>
  Effect.gen(function*() {
    const k = Key.format(i.key)
    if (i.gtidErrant === "") return yield* fail(`gtid-errant-reset-master will not operate on ${k} because no errant GTID is found`)
    if (!Model.supportsOracleGtid(i)) return yield* fail(`gtid-errant-reset-master requested for ${k} but it is not using oracle-gtid`)
    if (i.replicas.length > 0) {
      return yield* fail(`gtid-errant-reset-master will not operate on ${k} because it has ${i.replicas.length} replicas. Expecting no replicas`)
    }
    yield* notInMaintenance(i.key)
    return yield* thenStart(i.key, Effect.gen(function*() {
      let current = i
      const s = C.syntaxOf(i)
      if (Model.isReplica(current)) {
        current = yield* stopReplicationOn(current)
        if (!(yield* waitForThreads(i.key, s, "stopped"))) {
          return yield* fail(`gtid-errant-reset-master: timeout while waiting for replication to stop on ${k}`)
        }
        current = yield* probe(i.key)
      }
      const target = C.subtract(current.executedGtidSet, i.gtidErrant)
      if (Either.isLeft(target)) return yield* fail(target.left)
      const purged = target.right
      yield* retried(exec(i.key, C.resetBinaryLogs(s))).pipe(
        Effect.catchAll((e) =>
          fail(`gtid-errant-reset-master: error while resetting master on ${k}, after which intended to set gtid_purged to: ${purged}. Error was: ${e.message}`))
      )
      const executed = yield* exec(i.key, C.selectGtidExecuted)
      const left = String(executed[0]?.["gtid_executed"] ?? "")
      if (left !== "") {
        return yield* fail(
          `gtid-errant-reset-master: Unexpected non-empty Executed_Gtid_Set found on ${k} following RESET MASTER, after which intended to set gtid_purged to: ${purged}. Executed_Gtid_Set found to be: ${left}`
        )
      }
      yield* retried(exec(i.key, C.setGtidPurged(purged))).pipe(
        Effect.catchAll((e) => fail(`gtid-errant-reset-master: error setting gtid_purged on ${k} to: ${purged}. Error was: ${e.message}`))
      )
    }))
  }))

/** orchestrator `ErrantGTIDInjectEmpty`: commit an empty transaction per errant GTID on the cluster's writable master. */
const errantInjectEmpty = (p: InstanceParams) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const i = yield* probe(key)
    const k = Key.format(key)
    if (i.gtidErrant === "") return yield* fail(`gtid-errant-inject-empty will not operate on ${k} because no errant GTID is found`)
    if (!Model.supportsOracleGtid(i)) return yield* fail(`gtid-errant-inject-empty requested for ${k} but it does not support oracle-gtid`)
    const s = yield* snapshot
    const master = Views.clusterMasters(s.instances, i.clusterName).filter((m) => !m.readOnly)[0]
    if (master === undefined) return yield* fail(`gtid-errant-inject-empty found no writabel master for ${i.clusterName} cluster`)
    const mk = Key.format(master.key)
    if (!Model.supportsOracleGtid(master)) {
      return yield* fail(`gtid-errant-inject-empty requested for ${k} but the cluster's master ${mk} does not support oracle-gtid`)
    }
    const gtids = C.explode(i.gtidErrant, INJECT_LIMIT)
    if (Either.isLeft(gtids)) return yield* fail(gtids.left)
    const after = yield* exclusive(i, () => Effect.gen(function*() {
      for (let n = 0; n < gtids.right.length; n += INJECT_BATCH) {
        yield* exec(master.key, C.injectEmpty(gtids.right.slice(n, n + INJECT_BATCH))).pipe(
          Effect.tapError(() => Effect.ignore(exec(master.key, C.gtidNextAutomatic)))
        )
      }
      yield* Effect.ignore(probe(master.key))
      return yield* probe(key)
    }))
    return yield* answer(`Have injected ${gtids.right.length} transactions on cluster master ${mk}`, after)
  })

/** orchestrator `LocateErrantGTID`: the binary logs of the instance that hold its errant transactions. */
const locateErrant = (p: InstanceParams) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const i = yield* probe(key)
    if (i.gtidErrant === "") return yield* fail(`locate-errant-gtid: no errant-gtid on ${Key.format(key)}`)
    const names = C.binaryLogNames(yield* exec(key, C.showBinaryLogs))
    const binlogs = yield* Effect.forEach(names, (name) =>
      Effect.map(exec(key, C.showBinlogEvents(name)), (rows) => ({ name, previousGtids: C.previousGtids(rows) })))
    const located = C.locateErrant(key, i.gtidErrant, i.gtidPurged, binlogs)
    if (Either.isLeft(located)) return yield* fail(located.left)
    return envelope(ok("located errant GTID", located.right))
  })

/** orchestrator `DelayReplication`: CHANGE MASTER TO MASTER_DELAY with the running threads stopped around it. */
const delayReplication = (p: InstanceParams & { readonly seconds: number }) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const before = yield* probe(key)
    yield* exclusive(before, (waited) =>
      Effect.gen(function*() {
        const i = waited ? yield* probe(key) : before
        const s = C.syntaxOf(i)
        const plan = C.restartPreservePlan(
          s,
          { io: Model.ioThreadState(i) === "running", sql: Model.sqlThreadState(i) === "running" },
          C.changeSourceDelay(s, p.seconds)
        )
        for (const statement of plan) yield* exec(key, statement)
        return yield* probe(key)
      }))
    return envelope(ok(`Replication delayed: ${Key.format(key)}`, p.seconds))
  })

/** orchestrator `GetReplicationRestartPreserveStatements`: the statements, not run. */
const restartStatements = (p: InstanceParams, ctx: RequestContext) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const i = yield* probe(key)
    const statements = C.restartPreserveStatements(
      C.syntaxOf(i),
      { io: Model.ioThreadState(i) === "running", sql: Model.sqlThreadState(i) === "running" },
      ctx.url.searchParams.get("q") ?? ""
    )
    return envelope(ok(`statements for: ${Key.format(key)}`, statements))
  })

const killQuery = (p: InstanceParams & { readonly process: number }) =>
  control((k) => `Query killed on : ${k}`, (i) => Effect.zipRight(exec(i.key, C.killQuery(p.process)), probe(i.key)))(p)

/**
 * orchestrator `PurgeBinaryLogsTo`: `latest` is the current binlog; without `?force=true` refused while a replica
 * (as this node last saw it) still executes from an earlier file. (orchestrator answers "Binary logs flushed on"
 * here too: a copy of flush-binary-logs' message kept for scripts that match it.)
 */
const purge = (p: InstanceParams & { readonly logFile: string }, ctx: RequestContext) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const force = ctx.url.searchParams.get("force") === "true"
    const i = yield* probe(key)
    const logFile = p.logFile === "latest" ? i.selfBinlogCoordinates.logFile : p.logFile
    if (logFile === "") return yield* fail("purge-binary-logs: expected log file name or 'latest'")
    if (!force) {
      const s = yield* snapshot
      const refusal = C.purgeRefusal(key, logFile, s.instances.filter((r) => Key.equals(Model.masterKey(r), key)))
      if (refusal !== null) return yield* fail(refusal)
    }
    const after = yield* exclusive(i, () => Effect.zipRight(exec(key, C.purgeBinaryLogsTo(logFile)), probe(key)))
    return yield* answer(`Binary logs flushed on: ${Key.format(key)}`, after)
  })

/** orchestrator `CanReplicateFrom(-GTID)`: from this node's stored instances; "true", or an error with the reason. */
const canReplicate = (gtid: boolean) => (p: BelowParams) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const below = yield* keyOf(p.belowHost, p.belowPort)
    const s = yield* snapshot
    const i = s.find(key)
    if (i === undefined) return yield* fail(`Cannot read instance: ${Key.format(key)}`)
    const source = s.find(below)
    if (source === undefined) return yield* fail(`Cannot read instance: ${Key.format(below)}`)
    const refusal = C.cannotReplicateFrom(i, source, s.config.ReasonableMaintenanceReplicationLagSeconds) ??
      (gtid ? C.cannotMoveViaGtid(i, source) : null)
    if (refusal !== null) return yield* fail(refusal)
    return envelope(ok("true", keyJson(below)))
  })

// ---- reads ---------------------------------------------------------------------------------------------------------

/** Go's `net.Dial` error text for the common failures, so scripts matching orchestrator's messages keep working. */
const dialError = (target: string, e: NodeJS.ErrnoException): string => {
  switch (e.code) {
    case "ECONNREFUSED":
      return `dial tcp ${target}: connect: connection refused`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `dial tcp: lookup ${target.replace(/:\d+$/, "")}: no such host`
    case "ETIMEDOUT":
      return `dial tcp ${target}: i/o timeout`
    default:
      return `dial tcp ${target}: ${e.message}`
  }
}

/** orchestrator `Resolve`: the address accepts a TCP connection (names are not resolved to other names here). */
const resolve = (p: InstanceParams) =>
  Effect.gen(function*() {
    const key = yield* keyOf(p.host, p.port)
    const config = yield* AppConfig
    const target = Key.format(key)
    const outcome = yield* Effect.async<string | null>((resume) => {
      const socket = net.connect({ host: key.hostname, port: key.port })
      socket.setTimeout(config.MySQLConnectTimeoutSeconds * 1000, () => {
        socket.destroy()
        resume(Effect.succeed(`dial tcp ${target}: i/o timeout`))
      })
      socket.once("connect", () => {
        socket.destroy()
        resume(Effect.succeed(null))
      })
      socket.once("error", (e: NodeJS.ErrnoException) => {
        socket.destroy()
        resume(Effect.succeed(dialError(target, e)))
      })
      return Effect.sync(() => socket.destroy())
    })
    if (outcome !== null) return yield* fail(outcome)
    return envelope(ok("Instance resolved", keyJson(key)))
  })

/** Go's `textproto.CanonicalMIMEHeaderKey`: `x-forwarded-for` → `X-Forwarded-For`. */
const canonicalHeader = (name: string): string =>
  name.split("-").map((w) => (w === "" ? w : w[0]!.toUpperCase() + w.slice(1).toLowerCase())).join("-")

const poolMembers = Effect.flatMap(Repository, (repo) => backend(repo.readPoolMembers)).pipe(
  Effect.map((rows) => rows.map((r) => ({ pool: r.pool, key: Key.unsafeMake(r.key.hostname, r.key.port) })))
)

const clusterPools = (clusterName: string, pool: string) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const pools = Views.clusterPoolInstances(s.instances, yield* poolMembers, clusterName, pool)
    const details = Object.fromEntries([...pools.entries()].map(([name, keys]) => [name, keys.map(keyJson)]))
    return envelope(ok(`Read pool instances for cluster ${clusterName}`, details))
  })

const heuristicPool = (hint: string, pool: string) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const name = yield* clusterNameOf(s, hint)
    const list = Views.heuristicClusterPoolInstances(s.instances, yield* poolMembers, name, pool)
    return envelope(ok(`Heuristic pool instances for cluster ${name}`, list.map(s.encode)))
  })

/** orchestrator resolves heuristic-cluster-pool-lag's cluster by alias (`ReadClusterNameByAlias`), or exact name. */
const heuristicPoolLag = (clusterName: string, pool: string) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const name = Views.clusterByAlias(clusterName, s.aliases) ??
      (s.instances.some((i) => i.clusterName === clusterName) ? clusterName : undefined)
    if (name === undefined) return yield* fail(`No cluster found for alias ${clusterName}`)
    const lag = Views.maxLag(Views.heuristicClusterPoolInstances(s.instances, yield* poolMembers, name, pool))
    if (typeof lag === "string") return yield* fail(lag)
    return envelope(ok(`Heuristic pool lag for cluster ${name}`, lag))
  })

const oscReplicas = (p: { readonly clusterHint: string }) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const name = yield* clusterNameOf(s, p.clusterHint)
    return json(Views.clusterOscReplicas(s.instances, name).map(s.encode))
  })

/** orchestrator `Tag.Display`, sorted by tag name as `ReadInstanceTags` reads them. */
const tagsOf = (i: Instance) =>
  Effect.flatMap(Repository, (repo) => repo.readTags({ hostname: i.key.hostname, port: i.key.port })).pipe(
    Effect.map((tags) =>
      [...tags]
        .sort((a, b) => (a.tagName < b.tagName ? -1 : a.tagName > b.tagName ? 1 : 0))
        .map((t) => (t.tagValue === "" ? t.tagName : `${t.tagName}=${t.tagValue}`))
    )
  )

export const controlHandlers = {
  startSlave: start,
  startReplica: start,
  restartSlave: restart,
  restartReplica: restart,
  stopSlave: stop,
  stopReplica: stop,
  stopSlaveNice: stopNice,
  stopReplicaNice: stopNice,
  resetSlave: reset,
  resetReplica: reset,
  // orchestrator routes detach-slave and detach-slave-master-host to the same DetachReplicaMasterHost.
  detachSlave: detach,
  detachReplica: detach,
  reattachSlave: reattach,
  reattachReplica: reattach,
  detachSlaveMasterHost: detach,
  detachReplicaMasterHost: detach,
  reattachSlaveMasterHost: reattach,
  reattachReplicaMasterHost: reattach,
  restartSlaveStatements: restartStatements,
  restartReplicaStatements: restartStatements,
  skipQuery,
  delayReplication,
  enableSemiSyncMaster: semiSyncMaster(true),
  disableSemiSyncMaster: semiSyncMaster(false),
  enableSemiSyncReplica: semiSyncReplica(true),
  disableSemiSyncReplica: semiSyncReplica(false),
  setReadOnly: setReadOnly(true),
  setWriteable: setReadOnly(false),
  killQuery,
  flushBinaryLogs: flush,
  purgeBinaryLogs: purge,
  enableGtid,
  disableGtid,
  gtidErrantResetMaster: errantResetMaster,
  gtidErrantInjectEmpty: errantInjectEmpty,
  locateGtidErrant: locateErrant,
  canReplicateFrom: canReplicate(false),
  canReplicateFromGtid: canReplicate(true),

  resolve,
  /** orchestrator `BulkReadInstance`: every known key, sorted; Go's nil slice (`null`) when none. */
  bulkInstances: () =>
    Effect.map(snapshot, (s) => {
      const keys = s.instances.map((i) => i.key).sort(Key.compare).map(keyJson)
      return json(keys.length === 0 ? null : keys)
    }),
  /** orchestrator `BulkReadCandidateDatabaseInstance`: every promotion rule with its expiry; `null` when none. */
  bulkPromotionRules: () =>
    Effect.gen(function*() {
      const repo = yield* Repository
      const config = yield* AppConfig
      const rows = yield* backend(repo.readCandidates(0))
      return json(rows.length === 0 ? null : rows.map((c) => ({
        Hostname: c.key.hostname,
        Port: c.key.port,
        PromotionRule: c.promotionRule,
        LastSuggestedString: sqlTimestamp(c.lastSuggested),
        PromotionRuleExpiry: sqlTimestamp(c.lastSuggested + config.CandidateInstanceExpireMinutes * 60_000)
      })))
    }),
  clusterOscSlaves: oscReplicas,
  clusterOscReplicas: oscReplicas,
  topologyTags: (p: { readonly clusterHint: string }) => topology(p.clusterHint, false, tagsOf),
  topologyTagsByInstance: (p: InstanceParams) => topology(`${p.host}:${p.port}`, false, tagsOf),
  clusterPoolInstances: (p: { readonly clusterName: string }) => clusterPools(p.clusterName, ""),
  clusterPoolInstancesByPool: (p: { readonly clusterName: string; readonly pool: string }) => clusterPools(p.clusterName, p.pool),
  heuristicClusterPoolInstances: (p: { readonly clusterHint: string }) => heuristicPool(p.clusterHint, ""),
  heuristicClusterPoolInstancesByPool: (p: { readonly clusterHint: string; readonly pool: string }) =>
    heuristicPool(p.clusterHint, p.pool),
  heuristicClusterPoolLag: (p: { readonly clusterName: string }) => heuristicPoolLag(p.clusterName, ""),
  heuristicClusterPoolLagByPool: (p: { readonly clusterName: string; readonly pool: string }) =>
    heuristicPoolLag(p.clusterName, p.pool),
  reloadClusterAlias: () => fail("This API call has been retired"),

  /** orchestrator answers `req.Header`: canonical names, each with its list of values (Host is not a header in Go). */
  headers: (_p: object, ctx: RequestContext) =>
    Effect.succeed(json(Object.fromEntries(
      Object.entries(ctx.headers)
        .filter((e): e is [string, string] => e[1] !== undefined && e[0].toLowerCase() !== "host")
        .map(([name, value]) => [canonicalHeader(name), [value]] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    ))),
  /**
   * Instances are keyed by the address probed and names are never resolved to other names
   * (`MySQLHostnameResolveMethod` has no effect, docs/compat.md): the cache is always empty, and clearing it is a no-op.
   */
  hostnameResolveCache: () => Effect.succeed(envelope(ok("Cache retrieved", {}))),
  resetHostnameResolveCache: () => Effect.succeed(envelope(ok("Hostname cache cleared")))
}
