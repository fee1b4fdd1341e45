/**
 * The Effect runtime around the pure raft core: one driver fiber owns the RaftState and steps it with
 * inputs from a queue (ticks, received messages, proposals, read requests, persistence completions),
 * then carries out the outputs through the ports, in the order the core requires (State.ts):
 *   send `messages` → persist (fsync) → send `messagesAfterPersist` → step `Persisted` →
 *   install/apply snapshots → apply committed entries → answer proposals and reads → serve snapshot reads.
 * Inputs are taken in batches, so many proposals share one fsync (group commit).
 *
 * Time is the node's clock: ticks of the monotonic clock since start-up. Each batch first steps one Tick
 * carrying every tick that passed since the last, so the core's `now` keeps up with real time however long
 * the event loop (or the whole process, SIGSTOP) was stopped. Leadership for clients is `isLeader`: the
 * core's lease check evaluated at the clock's current tick, so a node whose driver is stalled does not keep
 * claiming leadership on a stale tick count either.
 */
import { Context, Data, Effect, Layer, Metric, Option, Queue } from "effect"
import * as Metrics from "../../observability/Metrics.js"
import * as ConfChangeMod from "../ConfChange.js"
import type { RaftConfig } from "../Config.js"
import { isLeaderWithLease } from "../Lease.js"
import { init, type Persisted, status } from "../Raft.js"
import { bytesToWire, wireToBytes } from "../ports/Checksum.js"
import { LogStore } from "../ports/LogStore.js"
import { RaftTransport } from "../ports/RaftTransport.js"
import { SnapshotStore } from "../ports/SnapshotStore.js"
import { StableStore, metaHasJoined } from "../ports/StableStore.js"
import type { Input, Output, Persist, RaftState, Role } from "../State.js"
import { step } from "../Step.js"
import type { Entry, Index, NodeId, SnapshotMeta, Term } from "../Types.js"
import { coalesce } from "./Coalesce.js"
import { ChurnTable } from "./ChurnTable.js"
import { StateMachine } from "./StateMachine.js"

export class RaftError extends Data.TaggedError("RaftError")<{
  /**
   * NotLeader: refused, nothing was appended (safe to retry elsewhere). LeadershipLost, Dropped, Timeout,
   * Shutdown (the node stopped while the request waited, or before it was taken): the entry may have been
   * appended and may still be committed by the next leader — outcome unknown.
   */
  readonly reason: "NotLeader" | "LeadershipLost" | "Dropped" | "Timeout" | "Shutdown" | "Storage"
  readonly message: string
  readonly leader: NodeId
}> {}

export interface RaftStatus {
  readonly id: NodeId
  readonly role: Role
  readonly term: Term
  readonly leader: NodeId
  readonly voters: ReadonlyArray<NodeId>
  readonly commit: Index
  readonly applied: Index
  readonly lastIndex: Index
  readonly snapshotIndex: Index
  readonly isLeader: boolean
  /** Has this node ever been part of a working cluster (heard a leader or led)? Durable. */
  readonly hasJoined: boolean
  /** On the leader: itself and the voters heard from within an election timeout (Raft.Status.healthyMembers). */
  readonly healthyMembers: ReadonlyArray<NodeId>
}

export interface RaftNodeOptions {
  readonly config: RaftConfig
  /** RaftNodes (identical on every node), including this node's id. */
  readonly voters: ReadonlyArray<NodeId>
  readonly tickMillis: number
  /** Take a snapshot once this many entries were applied since the last one. */
  readonly snapshotThreshold: number
  readonly snapshotIntervalMillis: number
  readonly proposalTimeoutMillis: number
  readonly seed: number
}

export interface RaftNodeShape {
  readonly id: NodeId
  /** Proposes `data`; resolves with the state machine's result once it is committed and applied here. */
  readonly propose: (data: string) => Effect.Effect<unknown, RaftError>
  /** A linearizable read barrier (ReadIndex): resolves once this node has applied everything committed before the call. */
  readonly readBarrier: Effect.Effect<void, RaftError>
  readonly isLeader: Effect.Effect<boolean>
  /**
   * `isLeader`, and everything committed is applied here: a read served from the state machine now is
   * linearizable. (A new leader's commit index can jump over entries it has not applied yet, e.g. while the
   * log fsync of the same step is in flight; an older leader already acknowledged those entries.)
   */
  readonly leaseRead: Effect.Effect<boolean>
  readonly status: Effect.Effect<RaftStatus>
  readonly transferLeadership: (target: NodeId) => Effect.Effect<void, RaftError>
  readonly addVoter: (id: NodeId) => Effect.Effect<void, RaftError>
  readonly removeVoter: (id: NodeId) => Effect.Effect<void, RaftError>
  /** Snapshot now (if anything was applied since the last one). */
  readonly snapshotNow: Effect.Effect<Index, RaftError>
}

export class RaftNode extends Context.Tag("orchestrator/raft/RaftNode")<RaftNode, RaftNodeShape>() {}

/**
 * A client waiting for its proposal or read: resumed once, by whichever comes first of the answer, the
 * timeout (swept by the ticker fiber, so a stalled driver cannot hold clients past it) and the client's
 * interruption. Cheaper than a Deferred awaited under `Effect.timeout`, which forks a race per request.
 */
interface Waiter {
  done: boolean
  /** Monotonic ms after which the ticker fails it with Timeout. */
  readonly deadline: number
  /** Dropped (set to `resumed`) once done: the waiter stays in the timeout list until its deadline. */
  resume: (effect: Effect.Effect<unknown, RaftError>) => void
}

const resumed = (): void => {}

/**
 * Marks a waiter done and lets go of its caller. A done waiter stays in the timeout list until its deadline
 * (proposalTimeoutMillis, seconds); holding `resume` would keep the caller's whole fiber alive that long —
 * at 10,000 proposals/s ~100,000 finished fibers, copied by young-generation GCs and promoted to old space.
 */
const finish = (w: Waiter): Waiter["resume"] => {
  const resume = w.resume
  w.done = true
  w.resume = resumed
  return resume
}

const succeedWaiter = (w: Waiter, value: unknown): void => {
  if (!w.done) finish(w)(Effect.succeed(value))
}

const failWaiter = (w: Waiter, error: RaftError): void => {
  if (!w.done) finish(w)(Effect.fail(error))
}

/** Reads the durable state the core needs at start-up, restoring the state machine from a snapshot if it lags. */
const loadPersisted = Effect.gen(function*() {
  const logStore = yield* LogStore
  const stable = yield* StableStore
  const snapshots = yield* SnapshotStore
  const sm = yield* StateMachine
  const hardState = yield* stable.readHardState
  const latest = yield* snapshots.latest
  const snapshot = Option.getOrUndefined(Option.map(latest, (s) => s.meta))
  let applied = yield* sm.appliedIndex
  if (snapshot !== undefined && applied < snapshot.index) {
    // The backend is behind the newest snapshot (new or wiped backend): load the snapshot first.
    const data = yield* snapshots.readAll(snapshot)
    yield* sm.restore(snapshot.index, snapshot.term, data)
    applied = snapshot.index
  }
  const first = yield* logStore.firstIndex
  const last = yield* logStore.lastIndex
  const from = Math.max(first, (snapshot?.index ?? 0) + 1)
  const entries = last >= from ? yield* logStore.entries(from, last + 1) : []
  const persisted: Persisted = { hardState, snapshot, entries, applied }
  return persisted
})

export const make = (options: RaftNodeOptions) =>
  Effect.gen(function*() {
    const logStore = yield* LogStore
    const stable = yield* StableStore
    const snapshots = yield* SnapshotStore
    const transport = yield* RaftTransport
    const sm = yield* StateMachine
    const id = options.config.id

    // A storage error at start-up stops the node: starting from an empty state could vote twice in a term.
    const persisted = yield* loadPersisted.pipe(
      Effect.mapError((e) => new RaftError({ reason: "Storage", message: `cannot load raft state: ${e.message}`, leader: "" }))
    )
    let state: RaftState = init(options.config, options.voters, persisted, options.seed)
    let durableHardState = persisted.hardState
    let appliedIndex = state.log.applied
    // The node's clock: ticks of the monotonic clock since start-up (the core's `now` starts at 0 here too).
    // The Clock the node was built with, not its callers': leadership answers and the driver read one clock.
    const clock = yield* Effect.clock
    // Monotonic milliseconds: the lease must not move with wall-clock adjustments.
    const monotonicNow = (): number => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n)
    const monotonicMillis = Effect.sync(monotonicNow)
    const clockOrigin = yield* monotonicMillis
    const clockTick = (millis: number): number => Math.floor((millis - clockOrigin) / options.tickMillis)
    let lastSnapshotAt = clock.unsafeCurrentTimeMillis()
    let hasJoined = Option.isSome(yield* Effect.orElseSucceed(stable.getMeta(metaHasJoined), () => Option.none()))
    yield* transport.setPeers(state.log.conf.voters)

    // Waiters in registration order; all share one timeout, so their deadlines are in order too.
    let timeouts: Array<Waiter> = []
    let timeoutsHead = 0
    // Acquired before the fibers below are forked, so released after they are interrupted: later requests are
    // refused, and clients still waiting are told the node stopped instead of waiting on a ticker that is gone.
    const inputs = yield* Effect.acquireRelease(Queue.unbounded<Input>(), (queue) =>
      Effect.zipRight(
        Queue.shutdown(queue),
        Effect.sync(() => {
          for (let k = timeoutsHead; k < timeouts.length; k++) {
            failWaiter(timeouts[k]!, fail("Shutdown", "the raft node has stopped"))
          }
        })
      ))
    // One entry per request, added and removed at the request rate: ChurnTable, not Map (see there why).
    const proposals = new ChurnTable<Waiter>()
    const awaitingApply = new ChurnTable<{ readonly term: Term; readonly waiter: Waiter }>()
    const reads = new ChurnTable<Waiter>()
    let readsAwaitingApply: Array<{ readonly index: Index; readonly waiter: Waiter }> = []
    let nextId = 0
    // The state as of the end of the driver's last batch (states are immutable values): what `status` shows.
    let published: RaftState = state

    const fail = (reason: RaftError["reason"], message: string) =>
      new RaftError({ reason, message, leader: state.lead })

    // ---- persistence ----------------------------------------------------------------------------------
    const receivers = new Map<string, Effect.Effect.Success<ReturnType<typeof snapshots.receive>>>()
    const storageError = (e: { readonly message: string }) => (e instanceof RaftError ? e : fail("Storage", e.message))

    /** Whether this hard state's term or vote differs from what is on disk (the commit index is never written). */
    const hardStateUnwritten = (hs: NonNullable<Persist["hardState"]>): boolean =>
      hs.term !== durableHardState.term || hs.vote !== durableHardState.vote

    /** Snapshot chunks, installs and compaction: written one persist record at a time, in order. */
    const persistSpecial = (p: Persist) =>
      Effect.gen(function*() {
        if (p.snapshotChunk !== undefined) {
          const c = p.snapshotChunk
          const name = `${c.meta.term}-${c.meta.index}`
          let receiver = receivers.get(name)
          if (receiver === undefined || c.offset === 0) {
            receiver = yield* snapshots.receive(c.meta)
            receivers.clear()
            receivers.set(name, receiver)
          }
          const bytes = wireToBytes(c.data)
          if (bytes === undefined) return yield* Effect.fail(fail("Storage", "malformed snapshot chunk"))
          yield* receiver.write(c.offset, bytes)
          if (c.done) {
            yield* receiver.finalize()
            receivers.clear()
          }
        }
        if (p.installSnapshot !== undefined) {
          // The installed snapshot replaces the whole log (thesis §5.1: discard the entire log).
          const last = yield* logStore.lastIndex
          yield* logStore.compactPrefix(Math.max(last, p.installSnapshot.index))
        }
      })

    /**
     * Writes the persist records of a whole batch of outputs with as few fsyncs as possible (group
     * commit): consecutive entry appends are merged into one append (an append replaces the log from its
     * first index on, so a later record that overwrites a suffix merges by truncating the pending run),
     * the hard state is written once, last; snapshot records are written in order between runs.
     */
    const persistAll = (records: ReadonlyArray<Persist>) =>
      Effect.gen(function*() {
        let run: Array<Entry> = []
        let hardState: Persist["hardState"] = undefined
        let compactTo: Index | undefined = undefined
        const flush = Effect.suspend(() => {
          const entries = run
          run = []
          return entries.length > 0 ? logStore.append(entries) : Effect.void
        })
        for (const p of records) {
          if (p.snapshotChunk !== undefined || p.installSnapshot !== undefined) {
            yield* flush
            yield* persistSpecial(p)
          }
          if (p.entries.length > 0) {
            const from = p.entries[0]!.index
            const runFirst = run[0]?.index
            if (runFirst !== undefined && from >= runFirst && from <= runFirst + run.length) {
              run = run.slice(0, from - runFirst).concat(p.entries)
            } else {
              yield* flush
              run = [...p.entries]
            }
          }
          if (p.hardState !== undefined) hardState = p.hardState
          if (p.compactTo !== undefined) compactTo = Math.max(compactTo ?? 0, p.compactTo)
        }
        yield* flush
        // Only term and vote must be durable (a restarted node must not vote twice in a term). The commit
        // index is not: a restarted node relearns it from the leader, and what it applied is already
        // committed (init takes the state machine's applied index as a lower bound). So a change of the
        // commit index alone costs no write and no fsync — under load that was one fsync per commit (etcd's
        // MustSync makes the same call).
        if (hardState !== undefined && hardStateUnwritten(hardState)) {
          yield* stable.writeHardState(hardState)
          durableHardState = hardState
        }
        if (compactTo !== undefined) yield* logStore.compactPrefix(compactTo)
      }).pipe(Effect.mapError(storageError))

    // ---- applying ------------------------------------------------------------------------------------
    const applyEntries = (entries: ReadonlyArray<Entry>) =>
      Effect.gen(function*() {
        const fresh = entries.filter((e) => e.index > appliedIndex)
        // One call for the whole batch: the state machine may apply it in one backend transaction.
        const results = fresh.length === 0 ? [] : yield* sm.apply(fresh)
        for (let k = 0; k < fresh.length; k++) {
          const e = fresh[k]!
          appliedIndex = e.index
          const w = awaitingApply.get(e.index)
          if (w !== undefined) {
            awaitingApply.delete(e.index)
            // Same index, other term: our proposal was overwritten by another leader's entry (never committed).
            if (w.term === e.term) succeedWaiter(w.waiter, results[k])
            else failWaiter(w.waiter, fail("Dropped", `entry ${e.index} was replaced by a newer leader`))
          }
        }
        Metrics.raftAppliedIndex.unsafeUpdate(appliedIndex, [])
        const ready = readsAwaitingApply.filter((r) => r.index <= appliedIndex)
        readsAwaitingApply = readsAwaitingApply.filter((r) => r.index > appliedIndex)
        for (const r of ready) succeedWaiter(r.waiter, undefined)
      })

    const restoreSnapshot = (meta: SnapshotMeta) =>
      Effect.gen(function*() {
        const data = yield* snapshots.readAll(meta)
        yield* sm.restore(meta.index, meta.term, data)
        appliedIndex = meta.index
        yield* Effect.logInfo("raft: installed snapshot", { index: meta.index, term: meta.term })
      })

    // ---- the driver ----------------------------------------------------------------------------------
    const stepOne = (input: Input): Output => {
      const r = step(state, input)
      state = r.state
      return r.output
    }

    /** Everything of an output after its persist record is durable, in the core's order. */
    const handleAfterPersist = (output: Output): Effect.Effect<ReadonlyArray<Input>, unknown> =>
      Effect.gen(function*() {
        const followUps: Array<Input> = []
        if (output.applySnapshot !== undefined) yield* restoreSnapshot(output.applySnapshot)
        for (const p of output.proposals) {
          const waiter = proposals.get(p.id)
          if (waiter === undefined) continue
          proposals.delete(p.id)
          if (!p.ok) failWaiter(waiter, fail("NotLeader", p.reason))
          else awaitingApply.set(p.index, { term: p.term, waiter })
        }
        yield* applyEntries(output.committed)
        for (const r of output.readStates) {
          const waiter = reads.get(r.id)
          if (waiter === undefined) continue
          reads.delete(r.id)
          if (!r.ok) failWaiter(waiter, fail("NotLeader", r.reason))
          else if (r.index <= appliedIndex) succeedWaiter(waiter, undefined)
          else readsAwaitingApply.push({ index: r.index, waiter })
        }
        for (const read of output.snapshotReads) {
          const chunk = yield* Effect.either(snapshots.read(read.snapshot, read.offset, read.maxBytes))
          followUps.push(
            chunk._tag === "Right"
              ? {
                _tag: "SnapshotChunk",
                to: read.to,
                snapshotIndex: read.snapshot.index,
                offset: read.offset,
                data: bytesToWire(chunk.right.data),
                done: chunk.right.done
              }
              : { _tag: "SnapshotUnavailable", to: read.to, snapshotIndex: read.snapshot.index }
          )
        }
        for (const ev of output.events) yield* onEvent(ev)
        return followUps
      })

    const onEvent = (ev: Output["events"][number]) =>
      Effect.gen(function*() {
        switch (ev._tag) {
          case "StateChanged":
            yield* Effect.logInfo("raft: state changed", { role: ev.role, term: ev.term, leader: ev.leader })
            yield* Metric.set(Metrics.raftTerm, ev.term)
            if (ev.role === "candidate" || ev.role === "precandidate") yield* Metric.increment(Metrics.raftElections)
            if (!hasJoined && ev.leader !== "") {
              hasJoined = true
              yield* Effect.ignore(stable.setMeta(metaHasJoined, "true"))
            }
            // A node that stops leading fails the proposals it was still waiting on: their fate is unknown.
            // Not "NotLeader": the entry is in the log and may be on a majority already, so the next leader
            // can commit it. Telling the client "not leader" would invite a blind retry of an applied op.
            if (ev.role !== "leader") {
              for (const w of awaitingApply.values()) {
                failWaiter(
                  w.waiter,
                  fail("LeadershipLost", "leadership lost before commit: the op may still be committed by the next leader")
                )
              }
              awaitingApply.clear()
            }
            break
          case "ConfChanged":
            yield* Effect.logInfo("raft: configuration changed", { voters: ev.conf.voters })
            yield* transport.setPeers(ev.conf.voters)
            break
          case "Refused":
            // Routine (leader stickiness refuses pre-votes; stale terms): debug, or the log floods.
            yield* Effect.logDebug("raft: refused a message", { from: ev.from, message: ev.message, reason: ev.reason })
            break
          default:
            yield* Effect.logInfo("raft: event", ev)
        }
      })

    /** Entries applied since the last snapshot: > 0 means a snapshot can be taken. */
    const sinceSnapshot = (): number => appliedIndex - (state.snapshot?.index ?? 0)

    /** Whether a snapshot is due (threshold or interval): checked without an Effect on every batch. */
    const snapshotDue = (): boolean => {
      const since = sinceSnapshot()
      return since > 0 &&
        (since >= options.snapshotThreshold || clock.unsafeCurrentTimeMillis() - lastSnapshotAt >= options.snapshotIntervalMillis)
    }

    const maybeSnapshot = (force: boolean) =>
      Effect.gen(function*() {
        if (force ? sinceSnapshot() <= 0 : !snapshotDue()) return state.snapshot?.index ?? 0
        lastSnapshotAt = clock.unsafeCurrentTimeMillis()
        const snap = yield* sm.snapshot
        if (snap.index !== appliedIndex) return state.snapshot?.index ?? 0
        const output = stepOne({ _tag: "SnapshotCreated", index: snap.index })
        const meta = state.snapshot
        if (meta === undefined || meta.index !== snap.index) return meta?.index ?? 0
        // Durable before the log below it may be compacted (the persist of this output).
        yield* snapshots.create(meta, snap.data)
        yield* Effect.logInfo("raft: snapshot taken", { index: meta.index, term: meta.term, bytes: snap.data.length })
        yield* runOutputs([output])
        return meta.index
      })

    /** Whether writing this record touches the disk (a commit-index-only record does not: see persistAll). */
    const needsDisk = (p: Persist | undefined): boolean =>
      p !== undefined && (
        p.entries.length > 0 || p.snapshotChunk !== undefined || p.installSnapshot !== undefined ||
        p.compactTo !== undefined || (p.hardState !== undefined && hardStateUnwritten(p.hardState))
      )

    /** Sends the replies of `outputs` whose records are durable and does the rest of each output, in order. */
    const afterPersist = (outputs: ReadonlyArray<Output>, followUps: Array<Input>) =>
      Effect.gen(function*() {
        const after = coalesce(outputs.flatMap((o) => o.messagesAfterPersist))
        for (const m of after) yield* transport.send(m.to, m)
        for (const o of outputs) if (hasAfterPersistWork(o)) followUps.push(...(yield* handleAfterPersist(o)))
      })

    /**
     * Carries out a batch of outputs: first every message that does not wait for the disk; then the outputs
     * ahead of the first record that needs the disk are finished at once (typically a leader's commit:
     * apply and answer clients); then one group write of the remaining records, the replies that had to wait
     * for it, and the rest of those outputs in order. `Persisted` for each record and snapshot chunks are
     * stepped as follow-ups.
     *
     * Finishing the prefix first is what keeps a busy leader's commit latency at one disk write: the batch
     * that carries followers' acknowledgements also carries new proposals, and their fsync used to hold the
     * acknowledged entries' apply and answers back by a whole write. It is safe because the core releases
     * only entries durable here (State.ts, "apply") and a record without disk work is durable as it stands.
     */
    const runOutputs = (outputs: ReadonlyArray<Output>): Effect.Effect<void, unknown> =>
      Effect.gen(function*() {
        let pending = outputs
        while (pending.length > 0) {
          const before = coalesce(pending.flatMap((o) => o.messages))
          for (const m of before) yield* transport.send(m.to, m)
          const records = pending.flatMap((o) => (o.persist === undefined ? [] : [o.persist]))
          const firstDisk = pending.findIndex((o) => needsDisk(o.persist))
          const ready = firstDisk < 0 ? pending : pending.slice(0, firstDisk)
          const followUps: Array<Input> = []
          yield* afterPersist(ready, followUps)
          if (firstDisk >= 0) {
            // The records ahead of firstDisk have nothing to write: persistAll skips them.
            yield* persistAll(records)
            yield* afterPersist(pending.slice(firstDisk), followUps)
          }
          pending = [...records.map((r): Input => ({ _tag: "Persisted", seq: r.seq })), ...followUps].map(stepOne)
        }
      })

    // Once per batch, so kept to plain assignments: no status object is built unless someone asks for it.
    const publish = () => {
      published = state
      Metrics.raftCommitIndex.unsafeUpdate(state.log.committed, [])
    }

    const driver = Effect.gen(function*() {
      const batch = yield* Queue.takeBetween(inputs, 1, 512)
      const outputs: Array<Output> = []
      // The batch's proposals are stepped together, after its other inputs (they arrived concurrently, so
      // any order is linearizable): their entries then travel in one AppendEntries per follower instead of
      // one each, which is most of the leader's and the followers' per-op messaging cost under load.
      const proposed: Array<{ readonly id: string; readonly data: string }> = []
      // The clock first: every tick that passed since the last batch, however long the event loop or the
      // whole process was stopped, before any message of this batch. A received message then resets the
      // stickiness counter at a tick no earlier than its arrival, and a leader's lease is measured against
      // real time (Tick inputs only wake the driver; docs/raft.md "Time").
      const due = clockTick(yield* monotonicMillis) - state.now
      if (due > 0) outputs.push(stepOne({ _tag: "Tick", ticks: due }))
      for (const input of batch) {
        if (input._tag === "Tick") continue
        if (input._tag === "Propose") {
          proposed.push(input)
          continue
        }
        outputs.push(stepOne(input))
      }
      if (proposed.length === 1) outputs.push(stepOne({ _tag: "Propose", id: proposed[0]!.id, data: proposed[0]!.data }))
      else if (proposed.length > 1) outputs.push(stepOne({ _tag: "ProposeBatch", proposals: proposed }))
      yield* runOutputs(outputs)
      if (snapshotDue()) yield* maybeSnapshot(false)
      publish()
    })

    // Storage failures are fatal for consensus safety: stop the node's raft (the process supervisor restarts it).
    yield* Effect.forkScoped(Effect.forever(driver).pipe(
      Effect.tapErrorCause((cause) => Effect.logError("raft: driver stopped", cause))
    ))
    const expireWaiters = Effect.map(monotonicMillis, (now) => {
      while (timeoutsHead < timeouts.length) {
        const w = timeouts[timeoutsHead]!
        if (!w.done && w.deadline > now) break
        timeoutsHead++
        if (!w.done) failWaiter(w, fail("Timeout", `not committed within ${options.proposalTimeoutMillis} ms`))
      }
      if (timeoutsHead > 1024 && timeoutsHead * 2 > timeouts.length) {
        timeouts = timeouts.slice(timeoutsHead)
        timeoutsHead = 0
      }
    })
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(
      Effect.sleep(options.tickMillis),
      Effect.zipRight(Queue.offer(inputs, { _tag: "Tick" }), expireWaiters)
    )))
    // Received messages move over in bulk: one wake-up of this fiber for everything that arrived meanwhile.
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(
      Queue.takeBetween(transport.inbound, 1, 512),
      (received) => Queue.offerAll(inputs, Array.from(received, (inbound): Input => ({ _tag: "Receive", message: inbound.message })))
    )))

    // Every proposal and read goes through here: kept to one Effect.async (no generator, no extra steps),
    // which is most of what a request costs the leader besides the consensus work itself.
    const request = <A>(register: (id: string, waiter: Waiter) => Input) =>
      Effect.async<unknown, RaftError>((resume) => {
        const waiter: Waiter = { done: false, deadline: monotonicNow() + options.proposalTimeoutMillis, resume }
        const rid = `${id}#${++nextId}`
        timeouts.push(waiter)
        // The inputs queue is unbounded: offering never suspends; it fails only once the node shut down.
        if (!Queue.unsafeOffer(inputs, register(rid, waiter))) failWaiter(waiter, fail("Shutdown", "the raft node has stopped"))
        // Interrupted (client gone, shutdown): nothing to resume; the driver drops the answer.
        return Effect.sync(() => void finish(waiter))
      }) as Effect.Effect<A, RaftError>

    // Evaluated at the clock's tick, not the last one the driver processed: a stalled driver cannot
    // stretch the lease.
    const isLeader = Effect.map(monotonicMillis, (now) => isLeaderWithLease(state, Math.max(state.now, clockTick(now))))

    const shape: RaftNodeShape = {
      id,
      propose: (data) =>
        Effect.suspend(() => {
          const start = monotonicNow()
          return Effect.map(
            request<unknown>((rid, waiter) => {
              proposals.set(rid, waiter)
              return { _tag: "Propose", id: rid, data }
            }),
            (result) => {
              Metrics.raftProposalSeconds.unsafeUpdate((monotonicNow() - start) / 1000, [])
              return result
            }
          )
        }),
      readBarrier: request<void>((rid, waiter) => {
        reads.set(rid, waiter)
        return { _tag: "ReadIndex", id: rid }
      }),
      isLeader,
      leaseRead: Effect.map(isLeader, (leads) => leads && appliedIndex >= state.log.committed),
      status: Effect.map(isLeader, (leads) => makeStatus(published, leads, hasJoined)),
      transferLeadership: (target) =>
        Effect.gen(function*() {
          if (state.role !== "leader") return yield* Effect.fail(fail("NotLeader", "not the leader"))
          yield* Queue.offer(inputs, { _tag: "TransferLeadership", target })
        }),
      addVoter: (node) => confChange({ type: "addVoter", node }),
      removeVoter: (node) => confChange({ type: "removeVoter", node }),
      snapshotNow: Effect.suspend(() => maybeSnapshot(true)).pipe(Effect.mapError((e) => fail("Storage", String(e))))
    }

    function confChange(change: ConfChangeMod.ConfChange) {
      return request<void>((rid, waiter) => {
        proposals.set(rid, waiter)
        return { _tag: "ProposeConfChange", id: rid, change }
      })
    }

    return shape
  })

/** Whether `handleAfterPersist` has anything to do for this output (most outputs of a busy batch: nothing). */
const hasAfterPersistWork = (o: Output): boolean =>
  o.applySnapshot !== undefined || o.proposals.length > 0 || o.committed.length > 0 || o.readStates.length > 0 ||
  o.snapshotReads.length > 0 || o.events.length > 0

const makeStatus = (s: RaftState, isLeader: boolean, hasJoined: boolean): RaftStatus => {
  const st = status(s)
  return {
    id: st.id,
    role: st.role,
    term: st.term,
    leader: st.leader,
    voters: st.conf.voters,
    commit: st.commit,
    applied: st.applied,
    lastIndex: st.lastIndex,
    snapshotIndex: st.snapshotIndex,
    isLeader,
    hasJoined,
    healthyMembers: st.healthyMembers
  }
}

export const layer = (
  options: RaftNodeOptions
): Layer.Layer<RaftNode, RaftError, LogStore | StableStore | SnapshotStore | RaftTransport | StateMachine> =>
  Layer.scoped(RaftNode, make(options))
