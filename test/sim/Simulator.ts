/**
 * VOPR-style simulator for the pure raft core: one seed decides the cluster, the faults and the workload.
 * Virtual time is a tick counter. Phase 1 (safety) injects faults; phase 2 (liveness) heals everything and
 * requires a leader with a lease and a fresh commit applied on every voter within bounded ticks
 * (TigerBeetle vopr.zig transition_to_liveness_mode / pending). Checker runs after every step.
 */
import * as Config from "../../core/raft/Config.js"
import type { Message } from "../../core/raft/Message.js"
import * as Raft from "../../core/raft/Raft.js"
import type { Input, RaftState } from "../../core/raft/State.js"
import type { Entry, NodeId } from "../../core/raft/Types.js"
import { Checker } from "./Checker.js"
import { Network } from "./Network.js"
import type { SimOptions } from "./Options.js"
import { Rng } from "./Rng.js"
import { emptyDisk, SimNode } from "./SimNode.js"

export interface SimResult {
  readonly seed: number
  readonly ok: boolean
  readonly violations: ReadonlyArray<string>
  readonly pending: string | undefined
  readonly stats: Record<string, number>
}

export type Trace = (line: string) => void

/** Deliberately broken runtimes, for negative controls: the checker must catch what they get wrong. */
export interface Variant {
  /** A resumed node steps one Tick instead of every tick it missed (the bug chaos seed 1432507113 hit). */
  readonly resumeWithoutCatchUp?: boolean
}

const short = (m: Message): string => {
  switch (m._tag) {
    case "AppendEntries":
      return `App t${m.term} prev=${m.prevIndex}/${m.prevTerm} n=${m.entries.length} c=${m.commit}`
    case "AppendEntriesResp":
      return `AppResp t${m.term} ${m.success ? "ok" : "rej"} i=${m.index} hint=${m.hintIndex}/${m.hintTerm}`
    case "InstallSnapshot":
      return `Snap t${m.term} i=${m.snapshot.index} off=${m.offset} len=${m.data.length}${m.done ? " done" : ""}`
    case "InstallSnapshotResp":
      return `SnapResp t${m.term} i=${m.snapshotIndex} next=${m.nextOffset}${m.installed ? " installed" : ""}`
    case "RequestVote":
    case "PreVote":
      return `${m._tag} t${m.term} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? " transfer" : ""}`
    case "RequestVoteResp":
    case "PreVoteResp":
      return `${m._tag} t${m.term} ${m.granted ? "yes" : "no"}`
    default:
      return `${m._tag} t${m.term}`
  }
}

export class Simulator {
  readonly rng: Rng
  readonly net: Network
  readonly nodes: Array<SimNode> = []
  readonly checker: Checker
  /** Each node's ticker phase (real nodes' timers are not aligned). */
  readonly phase: Array<number> = []
  t = 0
  liveness = false
  private proposalCounter = 0
  readonly stats: Record<string, number> = {
    elections: 0, acked: 0, crashes: 0, restarts: 0, snapshotsInstalled: 0, snapshotsTaken: 0,
    confChanges: 0, transfers: 0, reads: 0, partitions: 0, pauses: 0, steps: 0
  }

  constructor(
    readonly opts: SimOptions,
    private readonly trace: Trace | undefined = undefined,
    private readonly variant: Variant = {}
  ) {
    this.rng = new Rng(opts.seed ^ 0x5eed)
    this.net = new Network(this.rng, { ...opts.net })
    this.checker = new Checker(() => this.t)
    const voters = Array.from({ length: opts.voters }, (_, k) => `n${k + 1}`)
    for (let k = 0; k < opts.voters + opts.spares; k++) this.nodes.push(new SimNode(`n${k + 1}`, voters))
    for (let k = 0; k < this.nodes.length; k++) this.phase.push(this.rng.int(0, opts.tickEvery - 1))
    for (const n of this.nodes.slice(0, opts.voters)) this.start(n)
  }

  private log(line: string): void {
    if (this.trace !== undefined) this.trace(`t=${this.t} ${line}`)
  }

  node(id: NodeId): SimNode | undefined {
    return this.nodes.find((n) => n.id === id)
  }

  /** Raft ticks node `n` missed while paused, in simulator ticks [pausedAt, until]. */
  private missedTicks(n: SimNode, until: number): number {
    if (n.pausedAt === undefined) return 0
    const k = this.nodes.indexOf(n)
    let missed = 0
    for (let t = n.pausedAt; t <= until; t++) if ((t + this.phase[k]!) % this.opts.tickEvery === 0) missed++
    return missed
  }

  /** Every running node's state with its clock's tick (ahead of `now` while paused). */
  private leaseViews(): Array<{ readonly state: RaftState; readonly clock: number }> {
    const out: Array<{ readonly state: RaftState; readonly clock: number }> = []
    for (const n of this.nodes) {
      if (n.up && n.state !== undefined) out.push({ state: n.state, clock: n.state.now + this.missedTicks(n, this.t) })
    }
    return out
  }

  private pause(n: SimNode, ticks: number): void {
    n.pausedAt = this.t
    n.resumeAt = this.t + ticks
    this.stats.pauses!++
    this.log(`${n.id} PAUSE for ${ticks} ticks`)
  }

  /**
   * What a runtime does when its process runs again: the first batch steps one Tick carrying every tick
   * that passed, then the messages that waited in its socket, in order. Before this tick's own Tick.
   */
  private resume(n: SimNode): void {
    const missed = this.missedTicks(n, this.t - 1)
    const held = n.held
    n.clearPause()
    this.log(`${n.id} RESUME (${missed} ticks missed, ${held.length} messages waiting)`)
    if (missed > 0) this.stepNode(n, { _tag: "Tick", ticks: this.variant.resumeWithoutCatchUp === true ? 1 : missed })
    for (const m of held) this.stepNode(n, { _tag: "Receive", message: m })
  }

  config(id: NodeId) {
    return Config.make(id, { ...this.opts.raft, preVote: true, checkQuorum: true })
  }

  /** Boots (or reboots) a node from what its disk holds. */
  start(n: SimNode): void {
    const snap = n.disk.snapshot
    n.incarnation++
    n.state = Raft.init(this.config(n.id), n.bootVoters, {
      hardState: n.disk.hardState,
      snapshot: snap?.meta,
      entries: n.disk.entries
    }, this.rng.next())
    n.items = snap === undefined ? [] : (JSON.parse(snap.data) as Array<string>)
    n.applied = snap?.meta.index ?? 0
    n.writes = []
    n.proposals = new Map()
    n.sinceSnapshot = 0
    n.clearPause()
    n.up = true
    n.started = true
    this.log(`${n.id} start #${n.incarnation} term=${n.state.term} last=${n.disk.entries.at(-1)?.index ?? 0}`)
  }

  crash(n: SimNode): void {
    this.log(`${n.id} CRASH (losing ${n.writes.length} in-flight writes)`)
    n.up = false
    n.state = undefined
    n.writes = []
    n.clearPause()
    this.stats.crashes!++
  }

  /** Steps one node and carries out its output as a runtime would. */
  stepNode(n: SimNode, input: Input): void {
    if (!n.up || n.state === undefined || n.pausedAt !== undefined) return
    this.stats.steps!++
    let res
    try {
      res = Raft.step(n.state, input)
    } catch (e) {
      this.checker.fail(`${n.id} threw on ${input._tag}: ${(e as Error).message}`)
      return
    }
    const { output, state } = res
    n.state = state
    for (const ev of output.events) {
      if (ev._tag === "StateChanged") {
        this.log(`${n.id} ${ev.role} term=${ev.term} leader=${ev.leader || "-"}`)
        if (ev.role === "leader") {
          this.stats.elections!++
          this.checker.onLeader(n.id, state)
        }
      } else if (this.trace !== undefined) this.log(`${n.id} event ${JSON.stringify(ev)}`)
    }
    const p = output.persist
    if (p !== undefined) {
      this.checker.onWrite(n.id, state, p.entries)
      const last = n.writes.at(-1)?.readyAt ?? 0
      const readyAt = Math.max(last, this.t + this.rng.int(0, this.opts.disk.writeDelayMaxTicks))
      n.writes.push({ seq: p.seq, persist: p, after: output.messagesAfterPersist, readyAt })
    }
    for (const m of output.messages) this.send(m)
    if (output.applySnapshot !== undefined) this.applySnapshot(n, output.applySnapshot.index)
    for (const e of output.committed) this.apply(n, e)
    this.handleClientOutputs(n, output)
    for (const r of output.snapshotReads) {
      const snap = n.findSnapshot(r.snapshot.index, this.t)
      if (snap === undefined) {
        this.stepNode(n, { _tag: "SnapshotUnavailable", to: r.to, snapshotIndex: r.snapshot.index })
      } else {
        const data = snap.data.slice(r.offset, r.offset + r.maxBytes)
        const done = r.offset + data.length >= snap.data.length
        this.stepNode(n, { _tag: "SnapshotChunk", to: r.to, snapshotIndex: r.snapshot.index, offset: r.offset, data, done })
      }
    }
    this.maybeSnapshot(n)
    this.checker.checkLeases(this.leaseViews())
  }

  private send(m: Message): void {
    if (this.trace !== undefined) this.log(`${m.from} -> ${m.to} ${short(m)}`)
    this.net.send(m, this.t)
  }

  private applySnapshot(n: SimNode, index: number): void {
    const snap = n.disk.snapshot
    if (snap === undefined || snap.meta.index !== index) {
      this.checker.fail(`${n.id} told to apply snapshot ${index} that is not on its disk`)
      return
    }
    n.items = JSON.parse(snap.data) as Array<string>
    n.applied = index
    this.stats.snapshotsInstalled!++
    this.checker.onInstall(n.id, snap.meta, n.items)
    this.log(`${n.id} installed snapshot ${index}`)
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.applied + 1) this.checker.fail(`${n.id} applies ${e.index} after ${n.applied}`)
    this.checker.onApply(n.id, e)
    n.applied = e.index
    n.sinceSnapshot++
    if (e.type === "normal") n.items.push(e.data)
    const p = n.proposals.get(e.index)
    if (p !== undefined) {
      n.proposals.delete(e.index)
      if (p.term === e.term && p.data === e.data) {
        this.checker.onAck({ id: p.id, index: e.index, term: e.term })
        this.stats.acked!++
      }
    }
  }

  private handleClientOutputs(n: SimNode, output: Raft.Output): void {
    for (const r of output.proposals) {
      if (r.ok) {
        const data = r.id.startsWith("cc") ? "" : r.id
        if (data !== "") n.proposals.set(r.index, { id: r.id, term: r.term, data })
      }
    }
    for (const r of output.readStates) {
      if (r.ok) {
        const [, maxAcked] = r.id.split(":")
        this.checker.onRead(n.id, r.id, r.index, Number(maxAcked))
        this.stats.reads!++
      }
    }
  }

  /** The runtime snapshots its state machine every few entries; raft then compacts its log. */
  private maybeSnapshot(n: SimNode): void {
    const s = n.state
    if (s === undefined || n.sinceSnapshot < this.opts.snapshotEveryEntries || n.applied <= (s.snapshot?.index ?? 0)) return
    const data = JSON.stringify(n.items)
    const index = n.applied
    n.sinceSnapshot = 0
    this.stepNode(n, { _tag: "SnapshotCreated", index })
    const meta = n.state?.snapshot
    if (meta === undefined || meta.index !== index) {
      this.checker.fail(`${n.id} did not record snapshot ${index}`)
      return
    }
    n.saveSnapshot({ meta, data }, this.t)
    this.stats.snapshotsTaken!++
  }

  private completeWrites(n: SimNode): void {
    while (n.up && n.pausedAt === undefined && n.writes.length > 0 && n.writes[0]!.readyAt <= this.t) {
      const w = n.writes.shift()!
      try {
        n.writeToDisk(w.persist, this.t)
      } catch (e) {
        this.checker.fail((e as Error).message)
      }
      for (const m of w.after) this.send(m)
      this.stepNode(n, { _tag: "Persisted", seq: w.seq })
    }
  }

  private leaders(): Array<SimNode> {
    return this.nodes.filter((n) => n.up && n.pausedAt === undefined && n.state?.role === "leader")
  }

  private clientOps(): void {
    const o = this.opts
    const leaders = this.leaders()
    if (leaders.length === 0) return
    // In liveness mode only the marker proposal is made (run()): the backlog must drain, not grow.
    if (!this.liveness && this.rng.chance(o.proposePerMille)) {
      const l = this.rng.pick(leaders)
      // Every fourth proposal event is a batch of 2–4 (as the runtime groups concurrent proposals); decided
      // from the counter, not the rng, so every other random choice of a seed stays the same.
      const n = this.proposalCounter % 4 === 3 ? 2 + (this.proposalCounter % 3) : 1
      if (n === 1) this.stepNode(l, { _tag: "Propose", id: `p${++this.proposalCounter}`, data: `p${this.proposalCounter}` })
      else {
        const proposals = Array.from({ length: n }, () => ({ id: `p${++this.proposalCounter}`, data: `p${this.proposalCounter}` }))
        this.stepNode(l, { _tag: "ProposeBatch", proposals })
      }
    }
    if (this.rng.chance(o.readPerMille)) {
      const l = this.rng.pick(leaders)
      this.stepNode(l, { _tag: "ReadIndex", id: `r${++this.proposalCounter}:${this.checker.maxAckedIndex}` })
    }
    if (!this.liveness && this.rng.chance(o.transferPerMille)) {
      const l = this.rng.pick(leaders)
      const others = l.state!.log.conf.voters.filter((v) => v !== l.id)
      if (others.length > 0) {
        this.stats.transfers!++
        this.stepNode(l, { _tag: "TransferLeadership", target: this.rng.pick(others) })
      }
    }
    if (!this.liveness && this.rng.chance(o.confChangePerMille)) this.confChange(this.rng.pick(leaders))
  }

  private confChange(l: SimNode): void {
    const s = l.state!
    if (s.log.confIndex > s.log.committed) return
    const conf = s.log.conf.voters
    const spares = this.nodes.filter((n) => !conf.includes(n.id))
    const id = `cc${++this.proposalCounter}`
    if (spares.length > 0 && (conf.length <= 1 || this.rng.chance(500))) {
      const x = this.rng.pick(spares)
      if (!x.started) {
        // A brand-new node starts with an empty disk and the new voter list (compat spec §1.8 raft-add-peer).
        x.disk = emptyDisk()
        x.bootVoters = [...conf, x.id]
        this.start(x)
      } else if (!x.up) {
        // A node removed earlier comes back with its disk: wiping it could erase votes and acknowledgements
        // an older configuration still depends on (docs/raft.md "Replacing a node's disk").
        this.start(x)
      }
      this.log(`propose add ${x.id} at ${l.id}`)
      this.stepNode(l, { _tag: "ProposeConfChange", id, change: { type: "addVoter", node: x.id } })
    } else if (conf.length > 1) {
      const v = this.rng.pick(conf)
      this.log(`propose remove ${v} at ${l.id}`)
      this.stepNode(l, { _tag: "ProposeConfChange", id, change: { type: "removeVoter", node: v } })
    }
    this.stats.confChanges!++
  }

  private faults(): void {
    const o = this.opts
    const up = this.nodes.filter((n) => n.up)
    const down = this.nodes.filter((n) => !n.up && n.started)
    if (up.length > 0 && this.rng.chance(o.crashPerMille)) this.crash(this.rng.pick(up))
    if (down.length > 0 && this.rng.chance(o.restartPerMille)) {
      this.stats.restarts!++
      this.start(this.rng.pick(down))
    }
    if (!this.net.isPartitioned() && this.rng.chance(o.net.partitionPerMille)) {
      const ids = this.nodes.map((n) => n.id)
      const side = ids.filter(() => this.rng.chance(500))
      const rest = ids.filter((id) => !side.includes(id))
      if (side.length > 0 && rest.length > 0) {
        const mode = this.rng.chance(o.net.asymmetricPerMille) ? this.rng.pick(["in", "out"] as const) : "both"
        this.net.partition(side, rest, mode)
        this.stats.partitions!++
        this.log(`PARTITION ${mode} ${side.join(",")} | ${rest.join(",")}`)
      }
    } else if (this.net.isPartitioned() && this.rng.chance(o.net.healPerMille)) {
      this.net.heal()
      this.log("HEAL")
    }
    for (const n of this.nodes) if (n.pausedAt !== undefined && n.resumeAt <= this.t) this.resume(n)
    if (o.pausePerMille > 0 && this.rng.chance(o.pausePerMille)) {
      const running = this.nodes.filter((n) => n.up && n.pausedAt === undefined)
      if (running.length > 0) this.pause(this.rng.pick(running), this.rng.int(1, o.pauseMaxTicks))
    }
  }

  tick(): void {
    this.t++
    if (!this.liveness) this.faults()
    this.clientOps()
    for (const [k, n] of this.nodes.entries()) {
      if (n.pausedAt === undefined && (this.t + this.phase[k]!) % this.opts.tickEvery === 0) this.stepNode(n, { _tag: "Tick" })
    }
    for (const m of this.net.take(this.t)) {
      const n = this.node(m.to)
      if (n !== undefined && n.up && n.pausedAt !== undefined) n.held.push(m)
      else if (n !== undefined && n.up) {
        if (this.trace !== undefined) this.log(`${m.to} <- ${m.from} ${short(m)}`)
        this.stepNode(n, { _tag: "Receive", message: m })
      }
    }
    for (const n of this.nodes) this.completeWrites(n)
  }

  /** TigerBeetle transition_to_liveness_mode: heal the network, restart everyone, stop injecting faults. */
  enterLiveness(): void {
    this.liveness = true
    this.net.heal()
    for (const n of this.nodes) if (n.pausedAt !== undefined) this.resume(n)
    this.net.opts = { delayMinTicks: 1, delayMaxTicks: this.opts.net.delayMaxTicks, lossPerMille: 0, duplicatePerMille: 0 }
    for (const n of this.nodes) if (!n.up && n.started) this.start(n)
    this.log("LIVENESS: healed, all nodes restarted, faults off")
  }

  result(pending: string | undefined): SimResult {
    const violations = this.checker.violations
    return { seed: this.opts.seed, ok: violations.length === 0 && pending === undefined, violations, pending, stats: this.stats }
  }

  /** What the liveness phase still waits for (TigerBeetle `pending()`). */
  pending(marker: { index: number; term: number } | undefined): string {
    const lines = this.nodes.filter((n) => n.started).map((n) => {
      const s = n.state
      if (!n.up || s === undefined) return `${n.id}: down`
      return `${n.id}: ${s.role} term=${s.term} lead=${s.lead || "-"} commit=${s.log.committed} applied=${n.applied} ` +
        `last=${s.log.offset + s.log.length} voters=${s.log.conf.voters.join(",")} lease=${Raft.isLeaderWithLease(s, s.now)}`
    })
    return `marker=${marker === undefined ? "none" : `${marker.index}/${marker.term}`} | ${lines.join(" | ")}`
  }
}

/**
 * Ticks a follower needs to replicate the current backlog at the configured flow-control limits: one round
 * trip plus a disk write per maxInflight batches of maxEntriesPerMsg. Added to the liveness bound so that a
 * seed with tiny batches and a big backlog is not reported as a liveness bug.
 */
const drainTicks = (sim: Simulator): number => {
  const started = sim.nodes.filter((n) => n.state !== undefined)
  const last = Math.max(0, ...started.map((n) => n.state!.log.offset + n.state!.log.length))
  const applied = Math.min(...started.map((n) => n.applied))
  const o = sim.opts
  const perRound = o.raft.maxEntriesPerMsg * o.raft.maxInflight
  const roundTicks = 2 * o.net.delayMaxTicks + o.disk.writeDelayMaxTicks + 1
  return Math.ceil(Math.max(0, last - applied) / perRound) * roundTicks
}

/** Runs one seed to completion: safety phase, then liveness phase. */
export const run = (opts: SimOptions, trace?: Trace, variant?: Variant): SimResult => {
  const sim = new Simulator(opts, trace, variant)
  for (let i = 0; i < opts.safetyTicks && sim.checker.violations.length === 0; i++) sim.tick()
  if (sim.checker.violations.length > 0) return sim.result(undefined)
  sim.enterLiveness()
  const deadline = sim.t + opts.livenessTicks + drainTicks(sim)
  let marker: { index: number; term: number; node: SimNode } | undefined
  while (sim.t < deadline && sim.checker.violations.length === 0) {
    sim.tick()
    const holder = sim.nodes.find((n) => n.up && n.state !== undefined && Raft.isLeaderWithLease(n.state, n.state.now))
    if (holder === undefined) continue
    const s = holder.state!
    if (marker === undefined || marker.term !== s.term || marker.node !== holder) {
      const before = s.log.offset + s.log.length
      sim.stepNode(holder, { _tag: "Propose", id: `live${sim.t}`, data: `live${sim.t}` })
      const after = holder.state === undefined ? before : holder.state.log.offset + holder.state.log.length
      // Refused (e.g. a transfer from the safety phase is still pending): try again next tick.
      marker = after > before ? { index: before + 1, term: s.term, node: holder } : undefined
      continue
    }
    const voters = holder.state!.log.conf.voters
    const m = marker
    const done = voters.every((v) => {
      const n = sim.node(v)
      return n !== undefined && n.up && n.applied >= m.index
    })
    if (done && sim.checker.committed[m.index]?.term === m.term) return sim.result(undefined)
  }
  if (sim.checker.violations.length > 0) return sim.result(undefined)
  return sim.result(`liveness: no convergence within ${opts.livenessTicks} ticks: ${sim.pending(marker)}`)
}
