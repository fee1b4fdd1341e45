/**
 * A small synchronous cluster for scenario tests (etcd raft_test.go `network`): every output is persisted
 * at once (then Persisted is stepped), messages wait in an outbox until `deliver`, and links can be cut.
 */
import * as Config from "../../core/raft/Config.js"
import type { Message } from "../../core/raft/Message.js"
import * as Raft from "../../core/raft/Raft.js"
import type { Input, Output, RaftEvent, RaftState } from "../../core/raft/State.js"
import type { Entry, HardState, NodeId, SnapshotMeta } from "../../core/raft/Types.js"

export interface NodeDisk {
  hardState: HardState
  entries: Array<Entry>
  snapshot: { meta: SnapshotMeta; data: string } | undefined
  receiving: string
}

export class Cluster {
  readonly states = new Map<NodeId, RaftState>()
  readonly disks = new Map<NodeId, NodeDisk>()
  readonly applied = new Map<NodeId, Array<Entry>>()
  readonly events = new Map<NodeId, Array<RaftEvent>>()
  readonly outputs: Array<{ id: NodeId; output: Output }> = []
  /** State-machine contents per node (data of applied normal entries); snapshots carry it as JSON. */
  readonly items = new Map<NodeId, Array<string>>()
  outbox: Array<Message> = []
  readonly cut = new Set<string>()
  /** When set, the messages of each step are dropped instead of queued (to test lost messages). */
  dropAll = false

  constructor(
    readonly ids: ReadonlyArray<NodeId>,
    readonly overrides: Partial<Omit<Config.RaftConfig, "id">> = {},
    readonly seed = 1
  ) {
    ids.forEach((id, k) => this.boot(id, ids, k))
  }

  boot(id: NodeId, voters: ReadonlyArray<NodeId>, k = 0, keepDisk = false): void {
    const disk = keepDisk && this.disks.has(id)
      ? this.disks.get(id)!
      : { hardState: { term: 0, vote: "", commit: 0 }, entries: [], snapshot: undefined, receiving: "" }
    this.disks.set(id, disk)
    const config = Config.make(id, { electionTicks: 10, heartbeatTicks: 1, leaseTicks: 8, ...this.overrides })
    const persisted = { hardState: disk.hardState, snapshot: disk.snapshot?.meta, entries: disk.entries }
    this.states.set(id, Raft.init(config, voters, persisted, this.seed * 1000 + k))
    this.applied.set(id, [])
    this.items.set(id, disk.snapshot === undefined ? [] : (JSON.parse(disk.snapshot.data) as Array<string>))
    this.events.set(id, [])
  }

  state(id: NodeId): RaftState {
    return this.states.get(id)!
  }

  step(id: NodeId, input: Input): Output {
    const { output, state } = Raft.step(this.state(id), input)
    this.states.set(id, state)
    this.outputs.push({ id, output })
    this.events.get(id)!.push(...output.events)
    const queue = (ms: ReadonlyArray<Message>) => {
      if (!this.dropAll) this.outbox.push(...ms)
    }
    queue(output.messages)
    if (output.applySnapshot !== undefined) {
      this.items.set(id, JSON.parse(this.disks.get(id)!.snapshot!.data) as Array<string>)
    }
    for (const e of output.committed) {
      this.applied.get(id)!.push(e)
      if (e.type === "normal") this.items.get(id)!.push(e.data)
    }
    if (output.persist !== undefined) {
      this.writeDisk(id, output.persist)
      queue(output.messagesAfterPersist)
      this.step(id, { _tag: "Persisted", seq: output.persist.seq })
    }
    for (const r of output.snapshotReads) {
      const snap = this.disks.get(id)!.snapshot!
      const data = snap.data.slice(r.offset, r.offset + r.maxBytes)
      this.step(id, {
        _tag: "SnapshotChunk",
        to: r.to,
        snapshotIndex: r.snapshot.index,
        offset: r.offset,
        data,
        done: r.offset + data.length >= snap.data.length
      })
    }
    return output
  }

  private writeDisk(id: NodeId, p: NonNullable<Output["persist"]>): void {
    const d = this.disks.get(id)!
    if (p.snapshotChunk !== undefined) {
      d.receiving = p.snapshotChunk.offset === 0 ? p.snapshotChunk.data : d.receiving + p.snapshotChunk.data
    }
    if (p.installSnapshot !== undefined) {
      d.snapshot = { meta: p.installSnapshot, data: d.receiving }
      d.entries = []
    }
    if (p.entries.length > 0) d.entries = d.entries.filter((e) => e.index < p.entries[0]!.index).concat(p.entries)
    if (p.hardState !== undefined) d.hardState = p.hardState
    if (p.compactTo !== undefined) d.entries = d.entries.filter((e) => e.index > p.compactTo!)
  }

  /** The runtime takes a snapshot of node `id` at its applied index. */
  snapshot(id: NodeId): void {
    const s = this.state(id)
    this.disks.get(id)!.snapshot = {
      meta: { index: s.log.applied, term: 0, conf: s.log.conf },
      data: JSON.stringify(this.items.get(id))
    }
    this.step(id, { _tag: "SnapshotCreated", index: s.log.applied })
    this.disks.get(id)!.snapshot!.meta = this.state(id).snapshot!
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      this.cut.add(`${id}>${other}`)
      this.cut.add(`${other}>${id}`)
    }
  }

  heal(): void {
    this.cut.clear()
  }

  /** Delivers queued messages until none are left (bounded); returns how many were delivered. */
  deliver(maxRounds = 100, filter: (m: Message) => boolean = () => true): number {
    let delivered = 0
    for (let round = 0; round < maxRounds && this.outbox.length > 0; round++) {
      const batch = this.outbox
      this.outbox = []
      for (const m of batch) {
        if (this.cut.has(`${m.from}>${m.to}`) || !this.states.has(m.to) || !filter(m)) continue
        delivered++
        this.step(m.to, { _tag: "Receive", message: m })
      }
    }
    return delivered
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.step(id, { _tag: "Tick" })
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const id of this.states.keys()) this.step(id, { _tag: "Tick" })
  }

  /**
   * Every node behaves as if a full election timeout passed without hearing from a leader (they start
   * sticky, see RaftState.contactElapsed), without making any of them campaign.
   */
  forgetLeaders(): void {
    for (const [id, s] of this.states) this.states.set(id, { ...s, contactElapsed: s.config.electionTicks })
  }

  /** Makes `id` time out and campaign, then delivers everything. */
  elect(id: NodeId): void {
    this.forgetLeaders()
    const s = this.state(id)
    this.tick(id, Math.max(1, s.randomizedElectionTimeout - s.electionElapsed))
    this.deliver()
  }

  leader(): NodeId | undefined {
    return [...this.states.values()].find((s) => s.role === "leader")?.config.id
  }

  propose(id: NodeId, data: string): Output {
    return this.step(id, { _tag: "Propose", id: data, data })
  }
}
