/**
 * `step(state, input) -> { state, output }`: the single entry point of the pure raft core.
 * One shared term prelude, then stepLeader / stepCandidate / stepFollower (etcd raft.go Step).
 */
import * as ConfChange from "./ConfChange.js"
import * as Election from "./Election.js"
import * as Follower from "./Follower.js"
import * as Lease from "./Lease.js"
import type { Message } from "./Message.js"
import * as Progress from "./Progress.js"
import * as Log from "./RaftLog.js"
import * as Replication from "./Replication.js"
import type { Input, RaftState, StepResult } from "./State.js"
import { type Entry, encodeConf, isVoter, None } from "./Types.js"
import type { Work } from "./Work.js"
import { appendToLog, freeze, send, thaw } from "./Work.js"

const isLeaderMessage = (m: Message): boolean =>
  m._tag === "AppendEntries" || m._tag === "Heartbeat" || m._tag === "InstallSnapshot"

const refuse = (w: Work, m: Message, reason: string): void => {
  w.out.events.push({ _tag: "Refused", from: m.from, message: m._tag, reason })
}

/**
 * Thesis §3.3 term rules, refined by PreVote (§9.6) and leader stickiness (§4.2.3). Returns false when the
 * message must not be processed further.
 */
const termPrelude = (w: Work, m: Message): boolean => {
  if (m.term > w.term) {
    if ((m._tag === "RequestVote" || m._tag === "PreVote") && Election.inLease(w, m)) {
      refuse(w, m, "heard from a leader within the election timeout")
      return false
    }
    if (m._tag === "PreVote" || (m._tag === "PreVoteResp" && m.granted)) return true // no term change
    Election.becomeFollower(w, m.term, isLeaderMessage(m) ? m.from : None)
    return true
  }
  if (m.term < w.term) {
    if (isLeaderMessage(m)) {
      // A stale leader (e.g. back from a partition) learns our term from the reply and steps down. With
      // PreVote it would otherwise never hear a higher term (etcd does the same).
      send(w, { _tag: "HeartbeatResp", term: w.term, from: w.config.id, to: m.from, ctx: -1 })
    } else if (m._tag === "PreVote") {
      send(w, { _tag: "PreVoteResp", term: w.term, from: w.config.id, to: m.from, granted: false })
    }
    return false
  }
  return true
}

const stepLeader = (w: Work, m: Message): void => {
  switch (m._tag) {
    case "AppendEntriesResp":
      return Replication.handleAppendResp(w, m)
    case "HeartbeatResp":
      return Replication.handleHeartbeatResp(w, m)
    case "InstallSnapshotResp":
      return Replication.handleSnapshotResp(w, m)
    case "AppendEntries":
    case "Heartbeat":
    case "InstallSnapshot":
      // Election Safety (thesis §3.6.3) makes this impossible; report rather than obey.
      return refuse(w, m, "another leader claims our term")
    default:
      return
  }
}

const stepCandidate = (w: Work, m: Message): void => {
  switch (m._tag) {
    case "AppendEntries":
    case "Heartbeat":
    case "InstallSnapshot":
      // Thesis §3.4: a candidate that hears from a leader of its term returns to follower.
      Election.becomeFollower(w, m.term, m.from)
      return stepFollower(w, m)
    case "PreVoteResp":
      if (w.role === "precandidate") Election.recordVote(w, m.from, m.granted)
      return
    case "RequestVoteResp":
      if (w.role === "candidate") Election.recordVote(w, m.from, m.granted)
      return
    default:
      return
  }
}

const stepFollower = (w: Work, m: Message): void => {
  switch (m._tag) {
    case "AppendEntries":
    case "Heartbeat":
    case "InstallSnapshot":
      w.electionElapsed = 0
      w.contactElapsed = 0
      w.lead = m.from
      if (m._tag === "AppendEntries") return Follower.handleAppend(w, m)
      if (m._tag === "Heartbeat") return Follower.handleHeartbeat(w, m)
      return Follower.handleSnapshot(w, m)
    case "TimeoutNow":
      // Thesis §3.10: the leader asked us to start an election now, skipping PreVote and stickiness.
      if (m.from === w.lead || w.lead === None) Election.campaign(w, "transfer")
      return
    default:
      return
  }
}

/**
 * Messages from outside our configuration are refused, except:
 * - leader messages: a leader removing itself keeps leading until that change commits (thesis §4.2.2), and
 *   a new node must accept the leader that adds it;
 * - (pre)vote requests from a candidate whose log is strictly newer than ours: it may hold the config entry
 *   that makes it a member (we are the stale one). Refusing it could leave no electable node (simulator
 *   seed 347). Granting votes never depends on membership for safety; it only matters for disruption, which
 *   PreVote and stickiness already prevent while a leader is alive.
 */
const mayHoldNewerConfig = (w: Work, m: Message): boolean =>
  (m._tag === "RequestVote" || m._tag === "PreVote") &&
  (m.lastLogTerm > Log.lastTerm(w.log) || (m.lastLogTerm === Log.lastTerm(w.log) && m.lastLogIndex > Log.lastIndex(w.log)))

const handleMessage = (w: Work, m: Message): void => {
  if (m.to !== w.config.id) return refuse(w, m, "addressed to another node")
  if (!isVoter(w.log.conf, m.from) && !isLeaderMessage(m) && !mayHoldNewerConfig(w, m)) {
    return refuse(w, m, "sender is not in the configuration")
  }
  if (!termPrelude(w, m)) return
  if (m._tag === "RequestVote" || m._tag === "PreVote") return Election.handleVote(w, m)
  if (w.role === "leader") return stepLeader(w, m)
  if (w.role === "follower") return stepFollower(w, m)
  return stepCandidate(w, m)
}

/** Sends the new tail to every follower whose flow control allows it. */
const bcastNew = (w: Work): void => {
  for (const id of w.progress.keys()) {
    if (id !== w.config.id) Replication.sendAppend(w, id, false)
  }
}

const notLeaderReason = (w: Work): string | undefined =>
  w.role !== "leader"
    ? "not leader"
    : w.transferee !== None
    ? "leadership transfer in progress"
    : undefined

const propose = (w: Work, id: string, data: string): void => {
  const reason = notLeaderReason(w)
  if (reason !== undefined) {
    w.out.proposals.push({ id, ok: false, reason })
    return
  }
  const index = Log.lastIndex(w.log) + 1
  appendToLog(w, [{ term: w.term, index, type: "normal", data }])
  w.out.proposals.push({ id, ok: true, index, term: w.term })
  bcastNew(w)
}

/**
 * Appends every proposal of the batch, then sends the new tail: to a follower in replicate state as many
 * messages of up to maxEntriesPerMsg entries as its flow control allows (what proposing them one by one
 * would have sent, in fewer, larger messages); to a probing follower at most its one probe.
 */
const proposeBatch = (w: Work, proposals: ReadonlyArray<{ readonly id: string; readonly data: string }>): void => {
  if (proposals.length === 0) return
  const reason = notLeaderReason(w)
  if (reason !== undefined) {
    for (const p of proposals) w.out.proposals.push({ id: p.id, ok: false, reason })
    return
  }
  const first = Log.lastIndex(w.log) + 1
  const entries: Array<Entry> = []
  for (let k = 0; k < proposals.length; k++) {
    const p = proposals[k]!
    entries.push({ term: w.term, index: first + k, type: "normal", data: p.data })
    w.out.proposals.push({ id: p.id, ok: true, index: first + k, term: w.term })
  }
  appendToLog(w, entries)
  for (const id of w.progress.keys()) {
    if (id !== w.config.id) Replication.sendAllowed(w, id)
  }
}

const proposeConfChange = (w: Work, id: string, change: ConfChange.ConfChange): void => {
  const fail = (reason: string): void => {
    w.out.proposals.push({ id, ok: false, reason })
  }
  const reason = notLeaderReason(w)
  if (reason !== undefined) return fail(reason)
  if (!Lease.committedInTerm(w)) return fail("leader has not committed an entry of its term yet")
  if (w.log.confIndex > w.log.committed) return fail("a configuration change is still uncommitted")
  const res = ConfChange.apply(w.log.conf, change)
  if (!res.ok) return fail(res.reason)
  const index = Log.lastIndex(w.log) + 1
  // Thesis §4.1: the new configuration takes effect on each server as soon as it is in its log.
  appendToLog(w, [{ term: w.term, index, type: "config", data: encodeConf(res.conf) }])
  for (const v of res.conf.voters) {
    // Counted as active so that CheckQuorum gives the new voter a full round before judging (as etcd does).
    if (!w.progress.has(v)) w.progress.set(v, { ...Progress.make(index, w.now), recentActive: true })
  }
  for (const v of [...w.progress.keys()]) {
    if (!isVoter(res.conf, v)) w.progress.delete(v)
  }
  w.out.proposals.push({ id, ok: true, index, term: w.term })
  bcastNew(w)
  if (Replication.maybeCommit(w)) Replication.afterCommit(w)
}

const readIndex = (w: Work, id: string): void => {
  if (w.role !== "leader") {
    w.out.readStates.push({ id, ok: false, reason: "not leader" })
    return
  }
  const batched = w.pendingReads.some((r) => r.tick === w.now)
  w.pendingReads = [...w.pendingReads, { id, tick: w.now }]
  if (!batched && !Lease.isLeaderWithLease(w, w.now)) Replication.bcastHeartbeat(w)
  Lease.releaseReads(w)
}

const transferLeadership = (w: Work, target: string): void => {
  if (w.role !== "leader" || target === w.transferee) return
  if (target === w.config.id) {
    w.transferee = None // cancels a transfer that has not sent TimeoutNow yet; a sent one cannot be recalled
    return
  }
  const pr = w.progress.get(target)
  if (pr === undefined || !isVoter(w.log.conf, target)) return
  w.transferee = target
  w.transferElapsed = 0
  w.out.events.push({ _tag: "TransferStarted", target })
  if (pr.match === Log.lastIndex(w.log)) Replication.sendTimeoutNow(w, target)
  else Replication.sendAppend(w, target, true)
}

/** Thesis §5.1: the runtime has a durable snapshot ≤ applied; compact all but trailingLogs entries before it. */
const snapshotCreated = (w: Work, index: number): void => {
  if ((w.snapshot !== undefined && index <= w.snapshot.index) || index > w.log.applied || index <= w.log.offset) return
  w.snapshot = { index, term: Log.term(w.log, index)!, conf: Log.confAt(w.log, index) }
  let compactTo = index - w.config.trailingLogs
  // Keep what a follower receiving a snapshot will need right after it, and what an active follower that is
  // replicating still lacks: otherwise a follower whose catch-up takes longer than writing trailingLogs
  // entries chases snapshots forever (found by the simulator with small trailingLogs).
  for (const [id, pr] of w.progress) {
    if (id === w.config.id) continue
    if (pr.state === "snapshot" && pr.snapshot !== undefined) compactTo = Math.min(compactTo, pr.snapshot.meta.index)
    if (pr.state === "replicate" && pr.recentActive) compactTo = Math.min(compactTo, pr.match)
  }
  if (compactTo > w.log.offset) {
    w.log = Log.compact(w.log, compactTo)
    w.out.compactTo = compactTo
  }
}

const persisted = (w: Work, seq: number): void => {
  const p = w.persist
  if (seq <= p.durable || seq > p.seq) return
  const done = p.writes.filter((x) => x.seq <= seq)
  const remaining = p.writes.filter((x) => x.seq > seq)
  if (done.length > 0) {
    // The disk log now ends at the last finished write; writes still in flight may truncate below it.
    const stable = remaining.reduce((s, x) => Math.min(s, x.from - 1), done[done.length - 1]!.to)
    w.log = { ...w.log, stable }
  }
  let install = p.install
  if (install !== undefined && install.seq <= seq) {
    w.out.applySnapshot = install.meta
    install = undefined
  }
  w.persist = { ...p, durable: seq, writes: remaining, install }
  Election.maybeCountSelfVote(w, seq)
  if (w.role === "leader" && Replication.maybeCommit(w)) Replication.afterCommit(w)
}

const tick = (w: Work, ticks: number): void => {
  // Ticks that passed while the runtime could not deliver them: every clock and timer jumps by them, then
  // the handlers run once, as if those ticks had gone by with nothing else happening. The lease then sees
  // the real time elapsed (a stopped leader must not resume believing its old acknowledgements are fresh).
  const skipped = Number.isSafeInteger(ticks) && ticks > 1 ? ticks - 1 : 0
  if (skipped > 0) {
    w.now += skipped
    w.electionElapsed += skipped
    w.heartbeatElapsed += skipped
    w.contactElapsed += skipped
    if (w.transferee !== None) w.transferElapsed += skipped
  }
  w.now++
  if (w.role === "leader") Replication.tickHeartbeat(w)
  else Election.tickElection(w)
}

const dispatch = (w: Work, input: Input): void => {
  switch (input._tag) {
    case "Tick":
      return tick(w, input.ticks ?? 1)
    case "Receive":
      return handleMessage(w, input.message)
    case "Propose":
      return propose(w, input.id, input.data)
    case "ProposeBatch":
      return proposeBatch(w, input.proposals)
    case "ProposeConfChange":
      return proposeConfChange(w, input.id, input.change)
    case "ReadIndex":
      return readIndex(w, input.id)
    case "TransferLeadership":
      return transferLeadership(w, input.target)
    case "SnapshotCreated":
      return snapshotCreated(w, input.index)
    case "Persisted":
      return persisted(w, input.seq)
    case "SnapshotChunk":
      return Replication.handleSnapshotChunk(w, input)
    case "SnapshotUnavailable":
      return Replication.handleSnapshotUnavailable(w, input.to, input.snapshotIndex)
  }
}

/** Pure: the input state is never modified; the result holds the next state and what the runtime must do. */
export const step = (state: RaftState, input: Input): StepResult => {
  const w = thaw(state)
  dispatch(w, input)
  if (w.role !== state.role || w.term !== state.term || w.lead !== state.lead) {
    w.out.events.push({ _tag: "StateChanged", role: w.role, term: w.term, leader: w.lead })
  }
  if (w.log.conf !== state.log.conf && encodeConf(w.log.conf) !== encodeConf(state.log.conf)) {
    w.out.events.push({ _tag: "ConfChanged", conf: w.log.conf })
  }
  return freeze(w)
}
