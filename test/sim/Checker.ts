/**
 * Safety checkers that run after every simulator step (TigerBeetle state_checker.zig; hashicorp
 * fuzzy/verifier.go). They see only what nodes output and expose, never raft internals they could share
 * a bug with. Thesis §3.6.3 Fig. 3.2 lists the properties: Election Safety, Log Matching, Leader
 * Completeness, State Machine Safety; plus: no acknowledged write lost, linearizable reads, one lease.
 */
import * as Lease from "../../core/raft/Lease.js"
import * as Log from "../../core/raft/RaftLog.js"
import type { RaftState } from "../../core/raft/State.js"
import type { Entry, Index, NodeId, SnapshotMeta, Term } from "../../core/raft/Types.js"

interface Written {
  readonly data: string
  readonly type: string
  readonly prevTerm: Term
}

export interface Acked {
  readonly id: string
  readonly index: Index
  readonly term: Term
}

export class Checker {
  readonly violations: Array<string> = []
  private readonly leaders = new Map<Term, NodeId>()
  private readonly written = new Map<string, Written>()
  /** The canonical committed chain: index → entry, filled by the first node that applies it. */
  readonly committed: Array<Entry | undefined> = []
  maxCommitted = 0
  readonly acked: Array<Acked> = []
  maxAckedIndex = 0

  constructor(private readonly now: () => number) {}

  fail(what: string): void {
    const line = `t=${this.now()} ${what}`
    if (this.violations.length < 20 && !this.violations.includes(line)) this.violations.push(line)
  }

  /** Election Safety: at most one leader per term. */
  onLeader(id: NodeId, s: RaftState): void {
    const prev = this.leaders.get(s.term)
    if (prev !== undefined && prev !== id) this.fail(`two leaders in term ${s.term}: ${prev} and ${id}`)
    this.leaders.set(s.term, id)
    // Leader Completeness: the new leader holds every committed entry.
    for (let i = s.log.offset + 1; i <= this.maxCommitted; i++) {
      const c = this.committed[i]
      if (c !== undefined && Log.term(s.log, i) !== c.term) {
        this.fail(`leader ${id} of term ${s.term} lacks committed entry ${i} (term ${c.term})`)
        return
      }
    }
    if (s.log.offset > 0 && s.log.offset <= this.maxCommitted) {
      const c = this.committed[s.log.offset]
      if (c !== undefined && c.term !== s.log.offsetTerm) this.fail(`leader ${id} snapshot term mismatch at ${s.log.offset}`)
    }
  }

  /**
   * Log Matching: (index, term) identifies an entry and its predecessor's term, so by induction the whole
   * prefix. Checked on every entry a node writes to its log.
   */
  onWrite(id: NodeId, s: RaftState, entries: ReadonlyArray<Entry>): void {
    for (const e of entries) {
      const prevTerm = Log.term(s.log, e.index - 1)
      if (prevTerm === undefined) continue
      const key = `${e.index}:${e.term}`
      const w = this.written.get(key)
      if (w === undefined) this.written.set(key, { data: e.data, type: e.type, prevTerm })
      else if (w.data !== e.data || w.type !== e.type || w.prevTerm !== prevTerm) {
        this.fail(`log matching: ${id} wrote a different entry at ${key}`)
      }
    }
  }

  /** State Machine Safety: every node applies the same entry at each index. */
  onApply(id: NodeId, e: Entry): void {
    const c = this.committed[e.index]
    if (c === undefined) {
      this.committed[e.index] = e
      if (e.index > this.maxCommitted) this.maxCommitted = e.index
    } else if (c.term !== e.term || c.data !== e.data || c.type !== e.type) {
      this.fail(`${id} applied ${e.index}:${e.term} ${e.type} "${e.data}" but ${c.index}:${c.term} "${c.data}" was applied before`)
    }
  }

  /** A snapshot's contents must equal the canonical chain's normal entries up to its index. */
  onInstall(id: NodeId, meta: SnapshotMeta, items: ReadonlyArray<string>): void {
    const expected: Array<string> = []
    for (let i = 1; i <= meta.index; i++) {
      const c = this.committed[i]
      if (c === undefined) {
        this.fail(`${id} installed snapshot ${meta.index} but entry ${i} was never applied anywhere`)
        return
      }
      if (c.type === "normal") expected.push(c.data)
    }
    if (expected.length !== items.length || expected.some((d, k) => items[k] !== d)) {
      this.fail(`${id} installed snapshot ${meta.index} whose contents differ from the committed chain`)
    }
  }

  onAck(a: Acked): void {
    this.acked.push(a)
    if (a.index > this.maxAckedIndex) this.maxAckedIndex = a.index
  }

  /** Linearizable reads: a read answered at `index` must see every write acknowledged before it was issued. */
  onRead(id: NodeId, readId: string, index: Index, maxAckedAtIssue: Index): void {
    if (index < maxAckedAtIssue) this.fail(`${id} read ${readId} at ${index} misses a write acked at ${maxAckedAtIssue}`)
  }

  /**
   * Lease: at any instant at most one node holds a valid lease, it is the leader of the highest term any
   * live node leads in, and it holds every committed entry (so /api/leader-check + local reads are safe).
   * Each node's lease is judged at its clock's tick `clock`, which runs ahead of `now` while it is paused
   * (a stopped process answers leader-check the moment it resumes, before it steps anything).
   */
  checkLeases(nodes: ReadonlyArray<{ readonly state: RaftState; readonly clock: number }>): void {
    let holder: RaftState | undefined
    let maxLeaderTerm = -1
    for (const { clock, state: s } of nodes) {
      if (s.role === "leader" && s.term > maxLeaderTerm) maxLeaderTerm = s.term
      if (!Lease.isLeaderWithLease(s, clock)) continue
      if (holder !== undefined) this.fail(`two leases: ${holder.config.id} (term ${holder.term}) and ${s.config.id} (term ${s.term})`)
      holder = s
    }
    if (holder === undefined) return
    if (holder.term < maxLeaderTerm) {
      this.fail(`${holder.config.id} holds a lease in term ${holder.term} while term ${maxLeaderTerm} has a leader`)
    }
    const c = this.committed[this.maxCommitted]
    if (c !== undefined && c.index > holder.log.offset && Log.term(holder.log, c.index) !== c.term) {
      this.fail(`lease holder ${holder.config.id} lacks committed entry ${c.index}`)
    }
  }
}
