/**
 * Leader side of log replication (thesis §3.5, §3.6, §10.2 batching and pipelining), snapshot streaming
 * (thesis §5.1), CheckQuorum (§6.2) and leadership transfer (§3.10).
 */
import * as Election from "./Election.js"
import * as Lease from "./Lease.js"
import type { AppendEntriesResp, HeartbeatResp, InstallSnapshotResp } from "./Message.js"
import * as Progress from "./Progress.js"
import * as Quorum from "./Quorum.js"
import * as Log from "./RaftLog.js"
import type { Input } from "./State.js"
import type { NodeId } from "./Types.js"
import { isVoter, None } from "./Types.js"
import type { Work } from "./Work.js"
import { send } from "./Work.js"

const setProgress = (w: Work, id: NodeId, p: Progress.Progress): void => {
  w.progress.set(id, p)
}

/**
 * Sends the next batch of entries to `to` unless its flow control is paused. Returns whether a message
 * was sent. `sendIfEmpty` sends an entry-less AppendEntries (to carry the commit index or probe).
 */
export const sendAppend = (w: Work, to: NodeId, sendIfEmpty: boolean): boolean => {
  const pr = w.progress.get(to)
  if (pr === undefined || to === w.config.id || Progress.isPaused(pr, w.config.maxInflight)) return false
  const prevIndex = pr.next - 1
  if (prevIndex < w.log.offset) {
    startSnapshot(w, to, pr)
    return false
  }
  const prevTerm = Log.term(w.log, prevIndex)
  if (prevTerm === undefined) throw new Error(`raft: next ${pr.next} beyond last ${Log.lastIndex(w.log)} for ${to}`)
  const entries = Log.slice(w.log, pr.next, pr.next + w.config.maxEntriesPerMsg)
  if (entries.length === 0 && !sendIfEmpty) return false
  send(w, {
    _tag: "AppendEntries",
    term: w.term,
    from: w.config.id,
    to,
    prevIndex,
    prevTerm,
    entries,
    commit: w.log.committed,
    ctx: w.now
  })
  setProgress(w, to, Progress.sentEntries(pr, prevIndex + entries.length, entries.length))
  return true
}

/** Sends as much as flow control allows (pipelining in replicate state). */
export const sendAllowed = (w: Work, to: NodeId): void => {
  for (let i = 0; i < w.config.maxInflight && sendAppend(w, to, false); i++) {
    // each iteration sent one batch
  }
}

export const bcastAppend = (w: Work): void => {
  for (const id of w.progress.keys()) {
    if (id !== w.config.id) sendAppend(w, id, true)
  }
}

export const bcastHeartbeat = (w: Work): void => {
  for (const [id, pr] of w.progress) {
    if (id === w.config.id) continue
    // Heartbeats do no log check, so the commit they carry is clamped to what the follower is known to hold.
    const commit = Math.min(pr.match, w.log.committed)
    send(w, { _tag: "Heartbeat", term: w.term, from: w.config.id, to: id, commit, ctx: w.now })
  }
}

const startSnapshot = (w: Work, to: NodeId, pr: Progress.Progress): void => {
  if (w.snapshot === undefined) throw new Error(`raft: log compacted to ${w.log.offset} without a snapshot`)
  setProgress(w, to, Progress.becomeSnapshot(pr, w.snapshot, w.now))
  requestChunk(w, to)
}

/** Asks the runtime for the chunk at the follower's acknowledged offset (resumable transfer). */
const requestChunk = (w: Work, to: NodeId): void => {
  const pr = w.progress.get(to)
  const snap = pr?.snapshot
  if (pr === undefined || snap === undefined || snap.inflight) return
  w.out.snapshotReads.push({ to, snapshot: snap.meta, offset: snap.ackedOffset, maxBytes: w.config.snapshotChunkBytes })
  setProgress(w, to, { ...pr, snapshot: { ...snap, inflight: true, sentTick: w.now } })
}

export const handleSnapshotChunk = (w: Work, c: Extract<Input, { _tag: "SnapshotChunk" }>): void => {
  const pr = w.progress.get(c.to)
  const snap = pr?.snapshot
  if (w.role !== "leader" || pr === undefined || snap === undefined) return
  if (snap.meta.index !== c.snapshotIndex || snap.ackedOffset !== c.offset) return // an outdated read
  send(w, {
    _tag: "InstallSnapshot",
    term: w.term,
    from: w.config.id,
    to: c.to,
    snapshot: snap.meta,
    offset: c.offset,
    data: c.data,
    done: c.done,
    ctx: w.now
  })
  setProgress(w, c.to, { ...pr, snapshot: { ...snap, sentTick: w.now } })
}

export const handleSnapshotUnavailable = (w: Work, to: NodeId, snapshotIndex: number): void => {
  const pr = w.progress.get(to)
  if (w.role !== "leader" || pr?.snapshot?.meta.index !== snapshotIndex) return
  setProgress(w, to, Progress.becomeProbe({ ...pr, snapshot: undefined }))
  sendAppend(w, to, true)
}

/** Marks a reply: the follower is alive (CheckQuorum) and acknowledged the leader tick `ctx` (lease). */
const heard = (pr: Progress.Progress, ctx: number): Progress.Progress => ({
  ...pr,
  recentActive: true,
  ackTick: Math.max(pr.ackTick, ctx)
})

/** Thesis §3.6.2: only an entry of the current term is committed by counting replicas. */
export const maybeCommit = (w: Work): boolean => {
  const self = w.progress.get(w.config.id)
  if (self !== undefined) setProgress(w, w.config.id, { ...self, match: w.log.stable, next: w.log.stable + 1 })
  const mci = Quorum.committedValue(w.log.conf.voters, (id) => w.progress.get(id)?.match)
  if (mci <= w.log.committed || Log.term(w.log, mci) !== w.term) return false
  w.log = Log.commitTo(w.log, mci)
  return true
}

/** After the commit index moved: tell followers, release reads, and leave if our own removal committed. */
export const afterCommit = (w: Work): void => {
  bcastAppend(w)
  Lease.releaseReads(w)
  // Thesis §4.2.2: a leader removed from the configuration steps down once that entry is committed.
  if (!isVoter(w.log.conf, w.config.id) && w.log.confIndex <= w.log.committed) {
    w.out.events.push({ _tag: "SteppedDown", reason: "removed" })
    Election.becomeFollower(w, w.term, None)
  }
}

export const handleAppendResp = (w: Work, m: AppendEntriesResp): void => {
  const old = w.progress.get(m.from)
  if (old === undefined) return
  const pr = { ...heard(old, m.ctx), respTick: w.now }
  if (!m.success) {
    const probeTo = m.hintTerm > 0 ? Log.findConflictByTerm(w.log, m.hintIndex, m.hintTerm)[0] : m.hintIndex
    const next = m.index <= pr.match && m.ctx > pr.matchCtx
      ? Progress.lostLog(pr, probeTo)
      : Progress.maybeDecrTo(pr, m.index, probeTo)
    setProgress(w, m.from, next ?? pr)
    if (next !== undefined) sendAppend(w, m.from, true)
    Lease.releaseReads(w)
    return
  }
  const [upd, updated] = Progress.maybeUpdate(pr, m.index)
  let p = { ...upd, matchCtx: Math.max(upd.matchCtx, m.ctx) }
  if (updated && p.state === "probe") p = Progress.becomeReplicate(p)
  else if (p.state === "snapshot" && p.snapshot !== undefined && p.match >= p.snapshot.meta.index) {
    p = Progress.becomeProbe(p)
  }
  setProgress(w, m.from, p)
  if (updated) {
    if (maybeCommit(w)) afterCommit(w)
    if (w.role === "leader") sendAllowed(w, m.from)
    if (w.role === "leader" && m.from === w.transferee && p.match === Log.lastIndex(w.log)) sendTimeoutNow(w, m.from)
  }
  Lease.releaseReads(w)
}

export const handleHeartbeatResp = (w: Work, m: HeartbeatResp): void => {
  const old = w.progress.get(m.from)
  if (old === undefined) return
  setProgress(w, m.from, { ...heard(old, m.ctx), probeSent: false })
  if (old.match < Log.lastIndex(w.log)) sendAppend(w, m.from, true)
  Lease.releaseReads(w)
}

export const handleSnapshotResp = (w: Work, m: InstallSnapshotResp): void => {
  const old = w.progress.get(m.from)
  if (old === undefined) return
  const pr = { ...heard(old, m.ctx), respTick: w.now }
  const snap = pr.snapshot
  if (pr.state !== "snapshot" || snap === undefined || snap.meta.index !== m.snapshotIndex) {
    setProgress(w, m.from, m.installed ? Progress.maybeUpdate(pr, m.snapshotIndex)[0] : pr)
  } else if (m.installed) {
    setProgress(w, m.from, Progress.becomeProbe(Progress.maybeUpdate(pr, m.snapshotIndex)[0]))
    sendAppend(w, m.from, true)
  } else if (m.nextOffset !== snap.ackedOffset || !snap.inflight) {
    // The follower wants the bytes from nextOffset on (also after it restarted and lost a partial transfer).
    setProgress(w, m.from, { ...pr, snapshot: { ...snap, ackedOffset: m.nextOffset, inflight: false } })
    requestChunk(w, m.from)
  } else {
    setProgress(w, m.from, pr)
  }
  Lease.releaseReads(w)
}

/**
 * Thesis §3.10: once the target is up to date, tell it to campaign at once. Its election ignores leader
 * stickiness, so from now on our lease cannot be trusted for the rest of this term.
 */
export const sendTimeoutNow = (w: Work, to: NodeId): void => {
  w.leaseRevoked = true
  send(w, { _tag: "TimeoutNow", term: w.term, from: w.config.id, to })
}

const quorumActive = (w: Work): boolean =>
  Quorum.committedValue(w.log.conf.voters, (id) => id === w.config.id || w.progress.get(id)?.recentActive ? 1 : 0) >= 1

/** Retries what loss may have stalled: a snapshot chunk never answered, a pipeline whose messages all vanished. */
const retryStalled = (w: Work): void => {
  for (const [id, pr] of w.progress) {
    if (id === w.config.id) continue
    const stale = w.now - pr.respTick >= w.config.electionTicks
    if (pr.state === "snapshot" && pr.snapshot?.inflight === true && w.now - pr.snapshot.sentTick >= w.config.electionTicks) {
      setProgress(w, id, { ...pr, snapshot: { ...pr.snapshot, inflight: false } })
      requestChunk(w, id)
    } else if (pr.state === "replicate" && pr.inflight.length > 0 && stale) {
      setProgress(w, id, Progress.becomeProbe(pr))
      sendAppend(w, id, true)
    }
  }
}

export const tickHeartbeat = (w: Work): void => {
  w.heartbeatElapsed++
  w.electionElapsed++
  w.contactElapsed = 0
  if (w.transferee !== None && ++w.transferElapsed >= w.config.electionTicks) {
    if (w.leaseRevoked) {
      // TimeoutNow may still be delivered later; without a lease we cannot tell clients we lead, so let the
      // cluster elect again (docs/raft.md "Leadership transfer").
      w.out.events.push({ _tag: "SteppedDown", reason: "transferAborted" })
      Election.becomeFollower(w, w.term, None)
      return
    }
    w.transferee = None
    w.transferElapsed = 0
  }
  if (w.electionElapsed >= w.config.electionTicks) {
    w.electionElapsed = 0
    if (w.config.checkQuorum && !quorumActive(w)) {
      w.out.events.push({ _tag: "SteppedDown", reason: "checkQuorum" })
      Election.becomeFollower(w, w.term, None)
      return
    }
    for (const [id, pr] of w.progress) {
      if (id !== w.config.id) setProgress(w, id, { ...pr, recentActive: false })
    }
  }
  if (w.heartbeatElapsed >= w.config.heartbeatTicks) {
    w.heartbeatElapsed = 0
    bcastHeartbeat(w)
    retryStalled(w)
  }
}
