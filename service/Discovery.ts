/**
 * Discovery and continuous polling: the scoped fibers that keep every known instance fresh.
 *
 *   seeds, `discover` reactions, API ─► entries ─┬─ healthy queue  (DueQueue, DiscoveryMaxConcurrency permits) ─┐
 *   crawl (master up, replicas down) ──────────► │                                                              ├─► Prober
 *   expedite (fast failure detection) ─────────► └─ back-off queue (unreachable; its own permits)  ─────────────┘
 *                                                     results ─► writer fiber ─► Repository (batched, one transaction)
 *
 * Fibers (all `forkScoped` / in a scoped FiberSet, interrupted when the layer closes): one dispatcher per
 * queue, one fiber per probe in flight, the writer, the attempt watchdog, the reactions consumer, metrics.
 *
 * Orchestrator semantics kept (spec §4.1, §4.8, §6):
 * - a successful probe writes last_checked = last_seen = last_attempted_check = now;
 * - a failed probe sets last_checked only (Repository.markFailedCheck), so `last_checked <= last_seen` turns
 *   false at once (IsLastCheckValid);
 * - a probe still running after 1 s gets last_attempted_check = now (a hung server is visible then);
 * - a forgotten instance is not re-discovered by crawling for 3 poll intervals (`forgetInstanceKeys`).
 */
import { Cause, Clock, Deferred, Effect, Either, Exit, FiberSet, Layer, Metric, Option, Queue, Scope } from "effect"
import { type InstanceRecord, Repository, type RepositoryError } from "../core/backend/Repository.js"
import { AppConfig } from "../core/config/AppConfig.js"
import { withAttributes, crawlTargets } from "../core/discovery/ClusterAttributes.js"
import { Discovery, type DiscoveryStatus } from "../core/discovery/Discovery.js"
import { ProbeError, Prober, type ProbeRequest } from "../core/discovery/Prober.js"
import { storedRecord } from "../core/discovery/StoredInstance.js"
import { backoffDelay, DueQueue, nextHealthyDue, quantile } from "../core/discovery/Schedule.js"
import { instances as instancesGauge, probeSeconds, probesTotal } from "../core/observability/Metrics.js"
import { CommandLog } from "../core/ops/CommandLog.js"
import type { Instance } from "../core/topology/Instance.js"
import * as Model from "../core/topology/Instance.js"
import type { InstanceKey } from "../core/topology/InstanceKey.js"
import * as Key from "../core/topology/InstanceKey.js"
import { fromRecord } from "../core/topology/InstanceRecord.js"

type QueueName = "healthy" | "backoff"

interface Entry {
  readonly key: InstanceKey
  readonly id: string
  queue: QueueName
  /** Bumped at every (re)schedule; heap items with an older seq are stale. */
  seq: number
  inFlight: number
  startedAt: number | undefined
  attemptMarked: boolean
  /** When last_attempted_check was last written for the probe in flight. */
  attemptMarkedAt: number
  /** Expedited while in flight: probe again as soon as this probe ends. */
  again: boolean
  failures: number
  /** The last successful probe, with cluster attributes. */
  instance: Instance | undefined
  /** Last completed check (ok or failed). */
  lastCheckedAt: number | undefined
  seed: boolean
  removed: boolean
  /** `host:port` of the master in `instance`, indexed in `children`. */
  masterId: string | undefined
  /** Releases the queue permit held by the probe in flight (idempotent). */
  releasePermit: Effect.Effect<void> | undefined
}

interface HeapItem {
  readonly entry: Entry
  readonly seq: number
}

type WriteItem =
  | { readonly _tag: "Write"; readonly entry: Entry; readonly instance: Instance; readonly done?: Deferred.Deferred<void, RepositoryError> }
  | { readonly _tag: "Attempted"; readonly key: InstanceKey; readonly at: number }
  | { readonly _tag: "Failed"; readonly key: InstanceKey; readonly at: number }
  | { readonly _tag: "Alias"; readonly clusterName: string; readonly alias: string; readonly at: number }

/** Instances that never answered are dropped after this many failed probes (unless seeds). */
const NEVER_SEEN_MAX_FAILURES = 3
const WRITE_BATCH = 5000
const WRITE_INTERVAL_MS = 50
const UNSEEN_CHECK_MS = 60_000

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const prober = yield* Prober
  const repo = yield* Repository
  const commandLog = yield* CommandLog

  const pollMs = config.InstancePollSeconds * 1000
  // Masters with replicas are probed more often (MasterPollMillis): a dead master is the failure that
  // matters most, and there is one per cluster, so the extra probes are few.
  const masterPollMs = config.MasterPollMillis > 0 ? Math.min(pollMs, config.MasterPollMillis) : pollMs
  const backoffMaxMs = config.DiscoveryBackoffMaxSeconds * 1000
  const forgetTtlMs = 3 * pollMs
  const concurrency = config.DiscoveryMaxConcurrency

  const entries = new Map<string, Entry>()
  const forgotten = new Map<string, number>()
  const inFlight = new Set<Entry>()
  const heaps: Record<QueueName, DueQueue<HeapItem>> = { healthy: new DueQueue(), backoff: new DueQueue() }
  /**
   * The extra rounds of masters with replicas (MasterPollMillis), at a lower priority than the healthy queue:
   * dispatched only when no healthy probe is due and a permit is free. A node that cannot probe everything every
   * InstancePollSeconds gives these up first (measured: at 10,000 instances on 2 cores, taking them as regular
   * slots — 0.36 × N probes/s with clusters of 5 against N/5 — left every instance stale). An item shares the
   * entry's `seq` with its regular slot: whichever runs first makes the other stale.
   */
  const masterRounds = new DueQueue<HeapItem>()
  const wake: Record<QueueName, Queue.Queue<void>> = {
    healthy: yield* Queue.sliding<void>(1),
    backoff: yield* Queue.sliding<void>(1)
  }
  const fibers = yield* FiberSet.make<unknown, unknown>()
  const writes = yield* Queue.unbounded<WriteItem>()
  const counters = { ok: 0, failed: 0 }
  /**
   * Slow healthy probes whose permit the watchdog released; at most `slowCap`, which bounds what is in flight
   * when everything is slow (an overloaded network or host) to DiscoveryMaxConcurrency + slowCap.
   */
  let slowReleased = 0
  const slowCap = Math.max(64, concurrency)

  const lookup = (k: InstanceKey) => entries.get(Key.format(k))?.instance
  /** master id → ids of the instances replicating from it (from their last successful probe). */
  const children = new Map<string, Set<string>>()

  const indexMaster = (e: Entry, instance: Instance | undefined) => {
    const m = instance === undefined ? null : Model.masterKey(instance)
    const masterId = m === null || !Key.isValid(m) ? undefined : Key.format(m)
    if (masterId === e.masterId) return
    if (e.masterId !== undefined) children.get(e.masterId)?.delete(e.id)
    if (masterId !== undefined) {
      let set = children.get(masterId)
      if (set === undefined) children.set(masterId, (set = new Set()))
      set.add(e.id)
    }
    e.masterId = masterId
  }

  const sameAttributes = (a: Instance, b: Instance) =>
    a.clusterName === b.clusterName && a.replicationDepth === b.replicationDepth && a.isCoMaster === b.isCoMaster &&
    a.ancestryUuid === b.ancestryUuid

  /**
   * After an instance's cluster attributes changed (new instance found above, failover), recompute them for
   * everything below it now, rather than at each descendant's next probe. Only descendants whose last probe
   * succeeded are rewritten: their stored check times are those of the snapshot.
   */
  const propagate = (root: Entry): void => {
    const visited = new Set<string>([root.id])
    const todo = [root.id]
    while (todo.length > 0) {
      const id = todo.pop()!
      for (const childId of children.get(id) ?? []) {
        if (visited.has(childId)) continue
        visited.add(childId)
        const c = entries.get(childId)
        if (c === undefined || c.instance === undefined || c.failures > 0) continue
        const updated = withAttributes(c.instance, lookup, config)
        if (sameAttributes(updated, c.instance)) continue
        c.instance = updated
        Queue.unsafeOffer(writes, { _tag: "Write", entry: c, instance: updated })
        todo.push(childId)
      }
    }
  }

  const schedule = (e: Entry, queue: QueueName, due: number, now: number) => {
    e.queue = queue
    e.seq++
    heaps[queue].push(due, { entry: e, seq: e.seq })
    if (due <= now) Queue.unsafeOffer(wake[queue], undefined)
    else if (due < wakeAt[queue]) requestWake(queue, due)
  }

  const isForgotten = (id: string, now: number) => {
    const until = forgotten.get(id)
    if (until === undefined) return false
    if (until > now) return true
    forgotten.delete(id)
    return false
  }

  const entryFor = (key: InstanceKey): { readonly entry: Entry; readonly created: boolean } => {
    const id = Key.format(key)
    const found = entries.get(id)
    if (found !== undefined) return { entry: found, created: false }
    const entry: Entry = {
      key,
      id,
      queue: "healthy",
      seq: 0,
      inFlight: 0,
      startedAt: undefined,
      attemptMarked: false,
      attemptMarkedAt: 0,
      again: false,
      failures: 0,
      instance: undefined,
      lastCheckedAt: undefined,
      seed: false,
      removed: false,
      masterId: undefined,
      releasePermit: undefined
    }
    entries.set(id, entry)
    return { entry, created: true }
  }

  /** Adds an instance found by crawling, due at once, unless known or recently forgotten. */
  const crawl = (key: InstanceKey, now: number) => {
    const id = Key.format(key)
    if (entries.has(id) || isForgotten(id, now)) return
    schedule(entryFor(key).entry, "healthy", now, now)
  }

  const expediteAt = (keys: ReadonlyArray<InstanceKey>, now: number) => {
    for (const k of keys) {
      const id = Key.format(k)
      if (isForgotten(id, now)) continue
      const { entry } = entryFor(k)
      schedule(entry, entry.queue, now, now)
    }
  }

  /** Replicas of `key`: those it listed and those that name it as their master. */
  const replicasOf = (key: InstanceKey): ReadonlyArray<InstanceKey> => {
    const out = new Map<string, InstanceKey>()
    for (const r of entries.get(Key.format(key))?.instance?.replicas ?? []) out.set(Key.format(r), r)
    for (const id of children.get(Key.format(key)) ?? []) {
      const c = entries.get(id)
      if (c !== undefined) out.set(id, c.key)
    }
    return [...out.values()]
  }

  const metricOk = probesTotal.pipe(Metric.tagged("result", "ok"))
  const metricFailed = probesTotal.pipe(Metric.tagged("result", "failed"))

  /**
   * The polling hot path is plain JavaScript driven by callbacks: at thousands of probes/s a fiber (and its
   * semaphore permit, `ensuring`s and `Queue.offer`s) per probe cost more CPU than the probe itself. The clock
   * is still Effect's (TestClock in tests); results go to the writer fiber through `Queue.unsafeOffer`.
   */
  const clock = yield* Effect.clock
  const nowMs = () => clock.unsafeCurrentTimeMillis()
  const runFork = yield* FiberSet.runtime(fibers)<never>()
  /** Set when the layer closes: late probe results are dropped. */
  let closed = false
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
    })
  )

  /** The prober's callback form when it has one (mysql2: no fiber per probe), else `probe` in a scoped fiber. */
  const startProber = prober.probeCallback ?? ((
    request: ProbeRequest,
    done: (result: Either.Either<Instance, ProbeError>) => void
  ) => {
    runFork(prober.probe(request)).addObserver((exit) => {
      if (Exit.isSuccess(exit)) return done(Either.right(exit.value))
      const failure = Cause.failureOption(exit.cause)
      done(Either.left(
        Option.isSome(failure)
          ? failure.value
          : new ProbeError({
            key: request.key,
            kind: "query",
            message: `${Key.format(request.key)}: probe ${Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "failed"}: ${
              Cause.pretty(exit.cause)
            }`,
            partialSuccess: false
          })
      ))
    })
  })

  interface ProbeOptions {
    readonly crawl: boolean
    /** Resolved when the result is stored (synchronous discover/refresh). */
    readonly done?: Deferred.Deferred<void, RepositoryError>
    /** Called once the probe has ended and its result was applied. */
    readonly onEnd?: (result: Either.Either<Instance, ProbeError>) => void
  }

  /** One probe of `e`; everything that follows from its result happens in `complete`. */
  const startProbe = (e: Entry, options: ProbeOptions): void => {
    const started = nowMs()
    e.inFlight++
    e.startedAt = started
    e.attemptMarked = false
    inFlight.add(e)
    startProber({ key: e.key, previous: e.instance }, (result) => {
      e.inFlight--
      if (e.inFlight === 0) {
        e.startedAt = undefined
        inFlight.delete(e)
      }
      try {
        if (closed) {
          if (options.done) Deferred.unsafeDone(options.done, Exit.void)
        } else {
          complete(e, options, started, result)
        }
      } finally {
        options.onEnd?.(result)
      }
    })
  }

  const complete = (e: Entry, options: ProbeOptions, started: number, result: Either.Either<Instance, ProbeError>) => {
    const now = nowMs()
    probeSeconds.unsafeUpdate((now - started) / 1000, [])
    const again = e.again
    e.again = false
    if (e.removed) {
      if (options.done) Deferred.unsafeDone(options.done, Exit.void)
      return
    }
    e.lastCheckedAt = now
    if (Either.isRight(result)) {
      counters.ok++
      metricOk.unsafeUpdate(1, [])
      const previous = e.instance
      const instance = withAttributes(result.right, lookup, config)
      e.instance = instance
      e.failures = 0
      indexMaster(e, instance)
      Queue.unsafeOffer(
        writes,
        options.done === undefined ? { _tag: "Write", entry: e, instance } : { _tag: "Write", entry: e, instance, done: options.done }
      )
      if (instance.replicationDepth === 0 && instance.suggestedClusterAlias !== "" &&
        instance.suggestedClusterAlias !== previous?.suggestedClusterAlias) {
        Queue.unsafeOffer(writes, { _tag: "Alias", clusterName: instance.clusterName, alias: instance.suggestedClusterAlias, at: now })
      }
      schedule(e, "healthy", again ? now : nextHealthyDue(e.id, started, pollMs), now)
      if (!again && masterPollMs < pollMs && Model.masterKey(instance) === null && instance.replicas.length > 0) {
        masterRounds.push(started + masterPollMs, { entry: e, seq: e.seq })
      }
      if (previous === undefined || !sameAttributes(previous, instance)) propagate(e)
      if (options.crawl) for (const k of crawlTargets(instance)) crawl(k, now)
      // Fast detection: a replica whose IO thread just stopped running may have lost its master; re-probe the
      // master and its other replicas now instead of waiting for their slots.
      const master = Model.masterKey(instance)
      if (previous !== undefined && master !== null && Key.isValid(master) &&
        Model.ioThreadState(previous) === "running" && Model.ioThreadState(instance) !== "running") {
        expediteAt([master, ...replicasOf(master).filter((k) => !Key.equals(k, e.key))], now)
      }
    } else {
      counters.failed++
      metricFailed.unsafeUpdate(1, [])
      const wasHealthy = e.failures === 0 && e.instance !== undefined
      e.failures++
      Queue.unsafeOffer(writes, { _tag: "Failed", key: e.key, at: now })
      if (options.done) Deferred.unsafeDone(options.done, Exit.void)
      if (e.instance === undefined && !e.seed && e.failures >= NEVER_SEEN_MAX_FAILURES) {
        // Never answered (a typo, a long-gone replica still listed by SHOW SLAVE HOSTS): stop polling it.
        e.removed = true
        entries.delete(e.id)
        forgotten.set(e.id, now + backoffMaxMs)
      } else {
        schedule(e, "backoff", again ? now : now + backoffDelay(e.failures, pollMs, backoffMaxMs), now)
      }
      // Fast detection: a master that stops answering → ask its replicas what they see, now.
      if (wasHealthy) expediteAt(replicasOf(e.key), now)
    }
  }

  /**
   * The dispatchers wait on their `wake` queue only; a ticker fiber wakes a dispatcher when its next due time
   * has come. Under load (something due within DISPATCH_TICK_MS) the ticker just sleeps one tick at a time, so
   * thousands of evenly spread probes cost at most 20 plain wake-ups per second per queue. Wake-ups are what
   * the fiber runtime costs here: at N = 1,000 a race of a sleep and a take per probe cost ~0.3 ms of CPU per
   * probe, a 10 ms tick ~0.16 ms, a 50 ms tick a few µs. When idle the ticker sleeps until the next due time,
   * woken early by `tickerWake` if something earlier is scheduled. A probe starts at most one tick late (1 % of
   * the 5 s default interval), never early; one due now (expedite, crawl, a freed permit, a failed master's
   * replicas) wakes its dispatcher at once.
   */
  const DISPATCH_TICK_MS = 50
  /** When each dispatcher wants to be woken (its next due time). */
  const wakeAt: Record<QueueName, number> = { healthy: 0, backoff: 0 }
  /** When the ticker looks next. */
  let tickerAt = 0
  const tickerWake = yield* Queue.sliding<void>(1)
  const requestWake = (queue: QueueName, at: number) => {
    wakeAt[queue] = at
    if (at < tickerAt) Queue.unsafeOffer(tickerWake, undefined)
  }
  const ticker = Effect.gen(function*() {
    for (;;) {
      const now = nowMs()
      if (now >= wakeAt.healthy) {
        wakeAt.healthy = Number.POSITIVE_INFINITY
        Queue.unsafeOffer(wake.healthy, undefined)
      }
      if (now >= wakeAt.backoff) {
        wakeAt.backoff = Number.POSITIVE_INFINITY
        Queue.unsafeOffer(wake.backoff, undefined)
      }
      const next = Math.min(wakeAt.healthy, wakeAt.backoff)
      if (next - now <= DISPATCH_TICK_MS) {
        tickerAt = now + DISPATCH_TICK_MS
        yield* Effect.sleep(DISPATCH_TICK_MS)
      } else {
        const wait = Math.min(1000, next - now)
        tickerAt = now + wait
        yield* Effect.raceFirst(Effect.sleep(wait), Queue.take(tickerWake))
      }
    }
  })

  /** Free probe permits per queue (DiscoveryMaxConcurrency each). */
  const available: Record<QueueName, number> = { healthy: concurrency, backoff: concurrency }

  const dispatch = (e: Entry, queue: QueueName) => {
    available[queue]--
    // Released when the probe ends, or by the watchdog once the probe is slow (> 1 s): a server that hangs
    // holds a healthy permit for 1 s at most, then counts as unreachable.
    let held = true
    let slow = false
    const release = () => {
      if (!held) return
      held = false
      // Wake the dispatcher only if it ran out of permits (otherwise it wakes by itself for what is due).
      if (available[queue]++ === 0) {
        const due = heaps[queue].peekDue()
        const bonus = queue === "healthy" ? masterRounds.peekDue() : undefined
        const t = nowMs()
        if ((due !== undefined && due <= t) || (bonus !== undefined && bonus <= t)) Queue.unsafeOffer(wake[queue], undefined)
      }
    }
    e.releasePermit = Effect.sync(() => {
      if (!held || slowReleased >= slowCap) return
      slow = true
      slowReleased++
      release()
    })
    startProbe(e, {
      crawl: true,
      onEnd: () => {
        if (slow) slowReleased--
        release()
      }
    })
  }

  const dispatcher = (queue: QueueName) =>
    Effect.gen(function*() {
      const heap = heaps[queue]
      for (;;) {
        const now = nowMs()
        let due = heap.peekDue()
        while (due !== undefined && due <= now && available[queue] > 0) {
          const { item } = heap.pop()!
          const e = item.entry
          due = heap.peekDue()
          if (item.seq !== e.seq || e.removed || e.queue !== queue) continue
          if (e.inFlight > 0) {
            e.again = true
            continue
          }
          dispatch(e, queue)
          due = heap.peekDue()
        }
        // Masters' extra rounds: only with nothing regular due and a permit left.
        let bonusDue = queue === "healthy" ? masterRounds.peekDue() : undefined
        while (bonusDue !== undefined && bonusDue <= now && available[queue] > 0 && (due === undefined || due > now)) {
          const { item } = masterRounds.pop()!
          const e = item.entry
          bonusDue = masterRounds.peekDue()
          if (item.seq !== e.seq || e.removed || e.queue !== "healthy" || e.inFlight > 0) continue
          dispatch(e, queue)
          due = heap.peekDue()
        }
        if (bonusDue !== undefined && (due === undefined || bonusDue < due)) due = bonusDue
        // No permit: a probe that ends (or the watchdog) wakes the dispatcher.
        requestWake(queue, due === undefined || available[queue] <= 0 ? now + 1000 : Math.min(now + 1000, due))
        yield* Queue.take(wake[queue])
      }
    })

  const flush = (items: ReadonlyArray<WriteItem>) =>
    Effect.gen(function*() {
      let pending = new Map<string, InstanceRecord>()
      const flushWrites = Effect.suspend(() => {
        if (pending.size === 0) return Effect.void
        const rows = [...pending.values()]
        pending = new Map()
        return repo.writeInstances(rows)
      })
      for (const item of items) {
        switch (item._tag) {
          case "Write":
            // A write queued before a forget must not resurrect the row.
            if (!item.entry.removed) pending.set(item.entry.id, storedRecord(item.instance))
            break
          case "Attempted":
            yield* flushWrites
            yield* repo.markAttemptedCheck(item.key, item.at)
            break
          case "Failed":
            yield* flushWrites
            yield* repo.markFailedCheck(item.key, item.at)
            break
          case "Alias":
            yield* flushWrites
            yield* repo.setClusterAlias(item.clusterName, item.alias, item.at)
            break
        }
      }
      yield* flushWrites
    })

  /**
   * A transaction starts at most every WRITE_INTERVAL_MS: under load one transaction carries everything
   * probed in the last 50 ms (a transaction through @effect/sql costs far more CPU than a row, and at
   * thousands of probes/s a transaction per probe or two was most of the writer's cost). When idle, the first
   * write goes at once; a synchronous discover/refresh waiting for its row is flushed at once too.
   */
  let lastFlushAt = Number.NEGATIVE_INFINITY
  const writer = Effect.gen(function*() {
    for (;;) {
      const batch = [...(yield* Queue.takeBetween(writes, 1, WRITE_BATCH))]
      // takeBetween returns as soon as one item is there: take what the same probe result queued with it
      // (an instance and the descendants whose cluster attributes it changed go in one transaction).
      for (const i of yield* Queue.takeUpTo(writes, WRITE_BATCH - batch.length)) batch.push(i)
      const wait = lastFlushAt + WRITE_INTERVAL_MS - nowMs()
      if (wait > 0 && batch.length < WRITE_BATCH && !batch.some((i) => i._tag === "Write" && i.done !== undefined)) {
        yield* Effect.sleep(wait)
        for (const i of yield* Queue.takeUpTo(writes, WRITE_BATCH - batch.length)) batch.push(i)
      }
      lastFlushAt = nowMs()
      const dones = batch.flatMap((i) => (i._tag === "Write" && i.done !== undefined ? [i.done] : []))
      const outcome = yield* Effect.either(repo.transaction(flush(batch)))
      if (Either.isLeft(outcome)) {
        yield* Effect.logWarning("discovery: cannot store probe results", outcome.left.message)
        for (const d of dones) yield* Deferred.fail(d, outcome.left)
      } else {
        for (const d of dones) yield* Deferred.succeed(d, undefined)
      }
    }
  })

  /**
   * A probe still running after 1 s marks last_attempted_check (orchestrator's 1 s timer), and again every
   * second while it hangs: a hung server (SIGSTOP, a dead host behind dropped packets) then leaves the valid
   * window as soon as last_seen + the check slack has passed, instead of only when the read timeout
   * (MySQLDiscoveryReadTimeoutSeconds, 10 s) finally fails the probe — that was a 12.5 s hung-master detection.
   */
  const hungExpedited = new Map<string, number>()
  const watchdog = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    for (const e of inFlight) {
      if (e.startedAt === undefined || now - e.startedAt < 1000) continue
      // A master (or intermediate master) that hangs: ask its replicas every 500 ms what they see. They notice
      // a hung master only when their own read times out (slave_net_timeout); probing them on their 5 s slot
      // would add up to a poll interval to the detection of a hung master.
      const replicas = replicasOf(e.key)
      if (replicas.length > 0 && now - (hungExpedited.get(e.id) ?? 0) >= 500) {
        hungExpedited.set(e.id, now)
        if (hungExpedited.size > 10_000) hungExpedited.clear()
        expediteAt(replicas, now)
      }
      if (!e.attemptMarked) {
        e.attemptMarked = true
        e.attemptMarkedAt = now
        yield* Queue.offer(writes, { _tag: "Attempted", key: e.key, at: now })
        if (e.queue === "healthy" && e.releasePermit !== undefined) yield* e.releasePermit
      } else if (now - e.attemptMarkedAt >= 1000) {
        e.attemptMarkedAt = now
        yield* Queue.offer(writes, { _tag: "Attempted", key: e.key, at: now })
      }
    }
  }).pipe(Effect.delay(250), Effect.forever)

  const gauges = Effect.gen(function*() {
    let valid = 0
    let invalid = 0
    for (const e of entries.values()) {
      if (e.failures === 0 && e.instance !== undefined) valid++
      else invalid++
    }
    yield* Metric.set(instancesGauge.pipe(Metric.tagged("state", "valid")), valid)
    yield* Metric.set(instancesGauge.pipe(Metric.tagged("state", "invalid")), invalid)
    const now = yield* Clock.currentTimeMillis
    const downtimes = yield* Effect.orElseSucceed(repo.readActiveDowntimes(now), () => [])
    const downtimed = downtimes.filter((d) => entries.has(Key.format(new Key.InstanceKey(d.key)))).length
    yield* Metric.set(instancesGauge.pipe(Metric.tagged("state", "downtimed")), downtimed)
  }).pipe(Effect.delay(5000), Effect.forever)

  const runNow = (key: InstanceKey, crawlToo: boolean) =>
    Effect.gen(function*() {
      forgotten.delete(Key.format(key))
      const { entry } = entryFor(key)
      const done = yield* Deferred.make<void, RepositoryError>()
      const result = yield* Effect.async<Either.Either<Instance, ProbeError>>((resume) =>
        startProbe(entry, { crawl: crawlToo, done, onEnd: (r) => resume(Effect.succeed(r)) })
      )
      yield* Deferred.await(done)
      if (Either.isLeft(result)) return yield* Effect.fail(result.left)
      return entry.instance ?? result.right
    })

  const submitAt = (key: InstanceKey, now: number) => {
    forgotten.delete(Key.format(key))
    const { entry } = entryFor(key)
    schedule(entry, entry.queue, now, now)
    return entry
  }

  const forgetKey = (key: InstanceKey) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const id = Key.format(key)
      const e = entries.get(id)
      if (e !== undefined) {
        e.removed = true
        entries.delete(id)
        indexMaster(e, undefined)
      }
      forgotten.set(id, now + forgetTtlMs)
      yield* prober.release(key)
    })

  /**
   * Orchestrator's `ForgetLongUnseenInstances`: an instance not seen (no successful probe) for
   * UnseenInstanceForgetHours is forgotten — its row deleted and its polling stopped. Checked every minute.
   */
  const unseenForgetMs = config.UnseenInstanceForgetHours * 3_600_000
  const expireUnseen = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const expired: Array<InstanceKey> = []
    for (const e of entries.values()) {
      const seen = e.instance?.lastSeenAt
      if (e.failures > 0 && seen !== undefined && seen !== null && now - seen > unseenForgetMs) expired.push(e.key)
    }
    for (const key of expired) {
      yield* forgetKey(key)
      const deleted = yield* Effect.either(repo.forgetInstance(key))
      if (Either.isLeft(deleted)) {
        yield* Effect.logWarning(`discovery: cannot forget long-unseen ${Key.format(key)}`, deleted.left.message)
      } else {
        yield* Effect.logInfo(`discovery: forgot ${Key.format(key)}: not seen for ${config.UnseenInstanceForgetHours} h`)
      }
    }
  }).pipe(Effect.delay(UNSEEN_CHECK_MS), Effect.forever)

  const service = Discovery.of({
    discover: (key) => runNow(key, true),
    refresh: (key) => runNow(key, false),
    submit: (key) => Effect.map(Clock.currentTimeMillis, (now) => void submitAt(key, now)),
    expedite: (keys) => Effect.map(Clock.currentTimeMillis, (now) => expediteAt(keys, now)),
    forget: forgetKey,
    status: Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const ages: Array<number> = []
      let backoff = 0
      for (const e of entries.values()) {
        if (e.lastCheckedAt !== undefined) ages.push(now - e.lastCheckedAt)
        if (e.failures > 0) backoff++
      }
      return {
        known: entries.size,
        healthy: entries.size - backoff,
        backoff,
        inFlight: inFlight.size,
        probesOk: counters.ok,
        probesFailed: counters.failed,
        stalenessMs: { p50: quantile(ages, 0.5), p99: quantile(ages, 0.99), max: ages.length === 0 ? 0 : Math.max(...ages) }
      } satisfies DiscoveryStatus
    })
  })

  // ---- start-up: every stored instance and every seed is due at once (no blind window) ------------------
  const now = yield* Clock.currentTimeMillis
  const stored = yield* Effect.orElseSucceed(repo.readInstances, () => [] as ReadonlyArray<InstanceRecord>)
  for (const r of stored) {
    const key = Key.make(r.key.hostname, r.key.port)
    if (Either.isLeft(key)) continue
    const { entry } = entryFor(key.right)
    const decoded = fromRecord(r)
    if (Either.isRight(decoded)) entry.instance = decoded.right
    // Known-bad instances start in the back-off queue: their timeouts must not hold up the first round.
    const bad = Either.isRight(decoded) && !decoded.right.lastCheckValid
    if (bad) entry.failures = 1
    schedule(entry, bad ? "backoff" : "healthy", now, now)
  }
  for (const seed of config.DiscoverySeeds) {
    const key = Key.parse(seed, { defaultPort: Key.defaultInstancePort })
    if (Either.isLeft(key)) {
      yield* Effect.logWarning(`DiscoverySeeds: ignoring ${JSON.stringify(seed)}: ${key.left.message}`)
      continue
    }
    submitAt(key.right, now).seed = true
  }

  yield* Effect.forkScoped(dispatcher("healthy"))
  yield* Effect.forkScoped(dispatcher("backoff"))
  yield* Effect.forkScoped(ticker)
  yield* Effect.forkScoped(writer)
  yield* Effect.forkScoped(watchdog)
  yield* Effect.forkScoped(gauges)
  yield* Effect.forkScoped(expireUnseen)

  // Replicated ops: `discover` → probe here too; `forget` → stop polling.
  const reactions = yield* commandLog.reactions
  yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
    const r = yield* Queue.take(reactions)
    if (r._tag !== "Probe" && r._tag !== "Forgotten") return
    const key = Key.make(r.key.hostname, r.key.port)
    if (Either.isLeft(key)) return
    if (r._tag === "Forgotten") return yield* forgetKey(key.right)
    const t = yield* Clock.currentTimeMillis
    const e = entries.get(Key.format(key.right))
    // Just probed by the API call that proposed this op: nothing to do.
    if (e !== undefined && e.lastCheckedAt !== undefined && t - e.lastCheckedAt < 1000 && e.failures === 0) return
    submitAt(key.right, t)
  })))

  return service
})

export const layer = Layer.scoped(Discovery, make)

/**
 * The mysql2 prober, loaded on first use: a node with nothing to probe never imports the MySQL driver
 * (docs/architecture.md "MySQL driver loaded on demand"). Its connections live in this layer's scope.
 */
export const lazyMysqlProberLayer = Layer.scoped(
  Prober,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const config = yield* AppConfig
    const real = yield* Effect.cached(
      Effect.promise(() => import("../adapters/mysql/MysqlProber.js")).pipe(
        Effect.flatMap((m) => m.make(m.optionsFromConfig(config))),
        Scope.extend(scope)
      )
    )
    // Once loaded, probes go straight to the driver's callback form (no fiber per probe).
    let loaded: Prober["Type"] | undefined
    const load = Effect.tap(real, (p) =>
      Effect.sync(() => {
        loaded = p
      }))
    const probe = (request: ProbeRequest) => Effect.flatMap(load, (p) => p.probe(request))
    return Prober.of({
      probe,
      probeCallback: (request, done) => {
        const fast = loaded?.probeCallback
        if (fast !== undefined) return fast(request, done)
        Effect.runCallback(Effect.either(probe(request)), {
          onExit: (exit) => {
            if (Exit.isSuccess(exit)) done(exit.value)
            else {
              done(Either.left(
                new ProbeError({
                  key: request.key,
                  kind: "query",
                  message: `${Key.format(request.key)}: cannot load the MySQL driver: ${Cause.pretty(exit.cause)}`,
                  partialSuccess: false
                })
              ))
            }
          }
        })
      },
      release: (key) => Effect.flatMap(load, (p) => p.release(key)),
      roundTrips: Effect.flatMap(load, (p) => p.roundTrips)
    })
  })
)

/** Discovery with the mysql2 prober (what a node runs). */
export const layerMysql = layer.pipe(Layer.provide(lazyMysqlProberLayer))
