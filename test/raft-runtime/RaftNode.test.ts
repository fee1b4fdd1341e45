/**
 * The raft runtime (core/raft/runtime) driving the pure core through memory ports: three nodes on a
 * memory network, a toy state machine (an append-only list), real time with a 10 ms tick.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, Layer, Metric, Option, Scope } from "effect"
import * as Metrics from "../../core/observability/Metrics.js"
import * as Config from "../../core/raft/Config.js"
import * as LogStore from "../../core/raft/ports/LogStore.js"
import * as Transport from "../../core/raft/ports/RaftTransport.js"
import * as SnapshotStore from "../../core/raft/ports/SnapshotStore.js"
import * as StableStore from "../../core/raft/ports/StableStore.js"
import * as RaftNode from "../../core/raft/runtime/RaftNode.js"
import { StateMachine, type StateMachineShape } from "../../core/raft/runtime/StateMachine.js"

const ids = ["n1:10008", "n2:10008", "n3:10008"]

/** A toy state machine whose "disk" survives restarts of the node (like a backend). */
const makeToyDisk = () => ({ items: [] as Array<string>, applied: 0, restores: 0 })
type ToyDisk = ReturnType<typeof makeToyDisk>
const toyMachine = (disk: ToyDisk): StateMachineShape<unknown> => ({
  appliedIndex: Effect.sync(() => disk.applied),
  apply: (entries) =>
    Effect.sync(() =>
      entries.map((e) => {
        if (e.index <= disk.applied) return undefined
        disk.applied = e.index
        if (e.type === "normal") disk.items.push(e.data)
        return disk.items.length
      })
    ),
  snapshot: Effect.sync(() => ({ index: disk.applied, data: new TextEncoder().encode(JSON.stringify(disk.items)) })),
  restore: (index, _term, data) =>
    Effect.sync(() => {
      disk.items = JSON.parse(new TextDecoder().decode(data)) as Array<string>
      disk.applied = index
      disk.restores++
    })
})

interface Disks {
  readonly log: LogStore.MemoryLogDisk
  readonly stable: StableStore.MemoryStableDisk
  readonly snapshots: SnapshotStore.MemorySnapshotDisk
  readonly toy: ToyDisk
}
const makeDisks = (): Disks => ({
  log: LogStore.makeMemoryLogDisk(),
  stable: StableStore.makeMemoryStableDisk(),
  snapshots: SnapshotStore.makeMemorySnapshotDisk(),
  toy: makeToyDisk()
})

/** Runtime settings a test may change: the tick, and the log store (wrapped around the node's memory disk). */
interface NodeExtras {
  readonly tickMillis?: number
  readonly logStore?: (base: LogStore.LogStoreShape) => LogStore.LogStoreShape
}

const nodeLayer = (
  net: Transport.MemoryNetworkShape,
  id: string,
  disks: Disks,
  snapshotThreshold = 1000,
  overrides: Partial<Omit<Config.RaftConfig, "id">> = {},
  extras: NodeExtras = {}
) =>
  RaftNode.layer({
    // trailingLogs 5: compaction really drops entries, so a lagging node needs InstallSnapshot.
    config: Config.make(id, { trailingLogs: 5, snapshotChunkBytes: 64, ...overrides }),
    voters: ids,
    tickMillis: extras.tickMillis ?? 10,
    snapshotThreshold,
    snapshotIntervalMillis: 3_600_000,
    proposalTimeoutMillis: 5_000,
    seed: ids.indexOf(id) + 1
  }).pipe(
    Layer.provide(Layer.mergeAll(
      extras.logStore === undefined
        ? LogStore.layerMemory(disks.log)
        : Layer.sync(LogStore.LogStore, () => extras.logStore!(LogStore.makeMemory(disks.log))),
      StableStore.layerMemory(disks.stable),
      SnapshotStore.layerMemory({ disk: disks.snapshots }),
      Transport.layerMemory(id, { peers: ids }).pipe(Layer.provide(Layer.succeed(Transport.MemoryNetwork, net))),
      Layer.succeed(StateMachine, toyMachine(disks.toy))
    ))
  )

/** Starts a node in its own scope, so a test can stop (crash) and restart it. */
const startNode = (
  net: Transport.MemoryNetworkShape,
  id: string,
  disks: Disks,
  threshold?: number,
  overrides?: Partial<Omit<Config.RaftConfig, "id">>,
  extras?: NodeExtras
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const ctx = yield* Layer.buildWithScope(nodeLayer(net, id, disks, threshold, overrides, extras), scope)
    return { id, disks, scope, raft: ctx.unsafeMap.get(RaftNode.RaftNode.key) as RaftNode.RaftNodeShape }
  })
type Started = Effect.Effect.Success<ReturnType<typeof startNode>>

/**
 * A node's clock that can jump forward: what a process sees after SIGSTOP/SIGCONT or a long stall —
 * real time went on, none of its timers ran meanwhile. Sleeps run on the real clock.
 */
const makeJumpingClock = () => {
  const real = Clock.make()
  let offsetMillis = 0
  const millis = () => real.unsafeCurrentTimeMillis() + offsetMillis
  const nanos = () => real.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    currentTimeMillis: Effect.sync(millis),
    unsafeCurrentTimeNanos: nanos,
    currentTimeNanos: Effect.sync(nanos),
    sleep: (duration) => real.sleep(duration)
  }
  return { clock, jump: (ms: number) => void (offsetMillis += ms) }
}

const waitFor = <A>(what: string, probe: Effect.Effect<Option.Option<A>>, timeoutMs = 5000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const r = yield* probe
      if (Option.isSome(r)) return r.value
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep(10)
    }
  })

const leaderOf = (nodes: ReadonlyArray<Started>) =>
  waitFor("a leader", Effect.gen(function*() {
    const leaders: Array<Started> = []
    for (const n of nodes) if (yield* n.raft.isLeader) leaders.push(n)
    return leaders.length === 1 ? Option.some(leaders[0]!) : Option.none()
  }))

describe("raft runtime over memory ports", () => {
  it.scopedLive("elects one leader, replicates proposals to every state machine, answers with the apply result", () =>
    Effect.gen(function*() {
      const net = Transport.makeMemoryNetwork()
      const nodes = yield* Effect.forEach(ids, (id) => startNode(net, id, makeDisks()))
      const leader = yield* leaderOf(nodes)
      const timed = yield* Metric.value(Metrics.raftProposalSeconds)
      const results = yield* Effect.forEach(["a", "b", "c"], (d) => leader.raft.propose(d), { concurrency: 3 })
      assert.sameMembers(results as Array<number>, [1, 2, 3])
      // Each proposal's commit latency went into the histogram /metrics serves.
      assert.strictEqual((yield* Metric.value(Metrics.raftProposalSeconds)).count, timed.count + 3)
      yield* waitFor("all nodes applied", Effect.sync(() =>
        nodes.every((n) => n.disks.toy.items.length === 3) ? Option.some(true) : Option.none()))
      for (const n of nodes) assert.sameMembers(n.disks.toy.items, ["a", "b", "c"])
      // A follower refuses proposals.
      const follower = nodes.find((n) => n !== leader)!
      const refused = yield* Effect.flip(follower.raft.propose("x"))
      assert.strictEqual(refused.reason, "NotLeader")
      yield* leader.raft.readBarrier
      const status = yield* leader.raft.status
      assert.strictEqual(status.role, "leader")
      assert.isTrue(status.hasJoined)
      for (const n of nodes) yield* Scope.close(n.scope, Exit.void)
    }))

  it.scopedLive("a crashed leader is replaced; the restarted node catches up from its durable state", () =>
    Effect.gen(function*() {
      const disks = ids.map(() => makeDisks())
      const net = Transport.makeMemoryNetwork()
      let nodes = yield* Effect.forEach(ids, (id, i) => startNode(net, id, disks[i]!))
      const first = yield* leaderOf(nodes)
      for (let i = 0; i < 20; i++) yield* first.raft.propose(`before-${i}`)
      yield* Scope.close(first.scope, Exit.void)
      const rest = nodes.filter((n) => n !== first)
      const second = yield* leaderOf(rest)
      assert.notStrictEqual(second.id, first.id)
      for (let i = 0; i < 10; i++) yield* second.raft.propose(`after-${i}`)
      const restarted = yield* startNode(net, first.id, first.disks)
      nodes = [...rest, restarted]
      yield* waitFor("the restarted node catches up", Effect.sync(() =>
        restarted.disks.toy.items.length === 30 ? Option.some(true) : Option.none()))
      assert.deepStrictEqual(restarted.disks.toy.items, second.disks.toy.items)
      for (const n of nodes) yield* Scope.close(n.scope, Exit.void)
    }))

  it.scopedLive("a node with an empty disk is brought up to date by snapshot after compaction", () =>
    Effect.gen(function*() {
      const disks = ids.map(() => makeDisks())
      // Snapshot every 10 entries; the memory stores keep trailingLogs = 10240 by default, so compact hard.
      const net = Transport.makeMemoryNetwork()
      const nodes = yield* Effect.forEach(ids.slice(0, 2), (id, i) => startNode(net, id, disks[i]!, 10))
      const leader = yield* leaderOf(nodes)
      for (let i = 0; i < 40; i++) yield* leader.raft.propose(`e${i}`)
      const snapIndex = yield* leader.raft.snapshotNow
      assert.isAbove(snapIndex, 0)
      const fresh = yield* startNode(net, ids[2]!, disks[2]!)
      yield* waitFor("the empty node catches up", Effect.sync(() =>
        fresh.disks.toy.items.length === 40 ? Option.some(true) : Option.none()), 10_000)
      assert.deepStrictEqual(fresh.disks.toy.items, leader.disks.toy.items)
      // It got there through InstallSnapshot (chunked: 64-byte chunks), not by replaying the compacted log.
      assert.isAtLeast(fresh.disks.toy.restores, 1)
      for (const n of [...nodes, fresh]) yield* Scope.close(n.scope, Exit.void)
    }))

  it.scopedLive("a leader whose process was stopped does not resume claiming its old lease", () =>
    Effect.gen(function*() {
      // A long lease (18 ticks of 10 ms) so that a stale claim would last long enough to be seen.
      const timing = { electionTicks: 20, leaseTicks: 18 }
      const net = Transport.makeMemoryNetwork()
      const clocks = new Map(ids.map((id) => [id, makeJumpingClock()]))
      const nodes = yield* Effect.forEach(ids, (id) =>
        Effect.withClock(startNode(net, id, makeDisks(), undefined, timing), clocks.get(id)!.clock))
      const leader = yield* leaderOf(nodes)
      yield* leader.raft.propose("x")
      // Cut off from both peers, the leader keeps the lease its last acknowledgements earned.
      for (const other of ids) if (other !== leader.id) yield* net.partition(leader.id, other)
      assert.isTrue(yield* leader.raft.isLeader)
      // The process "was stopped" for 3 s (its peers could have elected someone else by then), then goes on
      // running: its tick timer fires and the driver processes a batch. The lease must be gone for good.
      clocks.get(leader.id)!.jump(3_000)
      const claims: Array<number> = []
      for (let i = 0; i < 60; i++) {
        if (yield* leader.raft.isLeader) claims.push(i)
        yield* Effect.sleep(2)
      }
      assert.deepStrictEqual(claims, [])
      // Its driver did run meanwhile: its own clock and status moved on (the jump reached the core).
      const status = yield* leader.raft.status
      assert.isFalse(status.isLeader)
      for (const n of nodes) yield* Scope.close(n.scope, Exit.void)
    }))

  it.scopedLive("a node that stops fails the proposals still waiting, and refuses new ones, with Shutdown", () =>
    Effect.gen(function*() {
      // A 200 ms tick keeps CheckQuorum (and so LeadershipLost) away for longer than the test needs.
      const net = Transport.makeMemoryNetwork()
      const nodes = yield* Effect.forEach(ids, (id) => startNode(net, id, makeDisks(), undefined, undefined, { tickMillis: 200 }))
      const leader = yield* leaderOf(nodes)
      yield* leader.raft.propose("warm-up")
      // Cut the leader off: its next proposal is appended but can never commit.
      yield* net.setFilter((from, to) => (from === leader.id || to === leader.id ? "drop" : "deliver"))
      const stuck = yield* Effect.fork(leader.raft.propose("stuck"))
      yield* Effect.sleep(50)
      assert.isNull(yield* Fiber.poll(stuck).pipe(Effect.map(Option.getOrNull)))
      yield* Scope.close(leader.scope, Exit.void)
      const waiting = yield* Fiber.join(stuck).pipe(Effect.flip, Effect.timeout(1000))
      assert.strictEqual(waiting.reason, "Shutdown")
      const late = yield* leader.raft.propose("late").pipe(Effect.flip, Effect.timeout(1000))
      assert.strictEqual(late.reason, "Shutdown")
      for (const n of nodes) if (n !== leader) yield* Scope.close(n.scope, Exit.void)
    }))

  it.scopedLive("a leader answers acknowledged entries without waiting for the disk write of proposals stepped with the acknowledgements", () =>
    Effect.gen(function*() {
      // The leader's log appends of "first" and of "second" wait for gates; nothing else waits. A 200 ms
      // tick keeps elections and CheckQuorum out of the way while the leader's driver is held on a gate.
      const gates = { first: yield* Deferred.make<void>(), second: yield* Deferred.make<void>() }
      let gated = ""
      const gatedStore = (id: string) => (base: LogStore.LogStoreShape): LogStore.LogStoreShape => ({
        ...base,
        append: (entries) => {
          const held = id !== gated ? undefined : entries.some((e) => e.data === "first")
            ? gates.first
            : entries.some((e) => e.data === "second")
            ? gates.second
            : undefined
          return held === undefined ? base.append(entries) : Effect.zipRight(Deferred.await(held), base.append(entries))
        }
      })
      const net = Transport.makeMemoryNetwork()
      const nodes = yield* Effect.forEach(ids, (id) =>
        startNode(net, id, makeDisks(), undefined, undefined, { tickMillis: 200, logStore: gatedStore(id) }))
      const leader = yield* leaderOf(nodes)
      yield* leader.raft.propose("warm-up")
      gated = leader.id
      const followers = nodes.filter((n) => n !== leader)
      // "first": the leader sends it and then waits for its own append, while both followers store it and
      // acknowledge; their acknowledgements queue up behind the leader's held driver.
      // Highest index each follower has acknowledged to the leader.
      const acked = new Map<string, number>()
      yield* net.setFilter((from, to, m) => {
        if (to === leader.id && m._tag === "AppendEntriesResp" && m.success) acked.set(from, Math.max(acked.get(from) ?? 0, m.index))
        return "deliver"
      })
      const first = yield* Effect.fork(leader.raft.propose("first"))
      const ackedFirst = (f: Started) => {
        const entry = f.disks.log.entries.find((e) => e.data === "first")
        return entry !== undefined && (acked.get(f.id) ?? 0) >= entry.index
      }
      yield* waitFor("both followers acknowledged the first entry", Effect.sync(() =>
        followers.every(ackedFirst) ? Option.some(true) : Option.none()))
      yield* Effect.sleep(50) // delivered: now moved on to the leader's input queue
      // "second" queues behind them: one batch will step the acknowledgements, then propose "second".
      const second = yield* Effect.fork(leader.raft.propose("second"))
      yield* Effect.sleep(20)
      yield* Deferred.succeed(gates.first, undefined)
      // The acknowledgements commit "first" (durable on all three); its answer must not wait for the
      // append of "second", which stays held.
      const answered = yield* Fiber.join(first).pipe(Effect.timeout(2000), Effect.option)
      assert.isTrue(Option.isSome(answered), "\"first\" was answered only after the write of \"second\"")
      assert.isNull(yield* Fiber.poll(second).pipe(Effect.map(Option.getOrNull)))
      yield* Deferred.succeed(gates.second, undefined)
      yield* Fiber.join(second)
      for (const n of nodes) yield* Scope.close(n.scope, Exit.void)
    }))
})
