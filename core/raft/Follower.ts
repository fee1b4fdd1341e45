/**
 * Follower side of replication: AppendEntries (thesis §3.5), heartbeats, and chunked InstallSnapshot
 * (thesis §5.1). Acknowledgements go out only after the state they acknowledge is durable.
 */
import type { AppendEntries, Heartbeat, InstallSnapshot } from "./Message.js"
import * as Log from "./RaftLog.js"
import type { Work } from "./Work.js"
import { appendToLog, send, sendAfterPersist } from "./Work.js"

const ackAppend = (w: Work, m: AppendEntries, index: number): void => {
  sendAfterPersist(w, {
    _tag: "AppendEntriesResp",
    term: w.term,
    from: w.config.id,
    to: m.from,
    success: true,
    index,
    hintIndex: 0,
    hintTerm: 0,
    ctx: m.ctx
  })
}

export const handleAppend = (w: Work, m: AppendEntries): void => {
  if (m.prevIndex < w.log.committed) {
    // Everything ≤ committed already matches the leader (Log Matching + Leader Completeness).
    ackAppend(w, m, w.log.committed)
    return
  }
  if (Log.matchTerm(w.log, m.prevIndex, m.prevTerm)) {
    const lastNew = m.prevIndex + m.entries.length
    const conflict = Log.findConflict(w.log, m.entries)
    if (conflict !== 0) appendToLog(w, m.entries.slice(conflict - m.prevIndex - 1))
    // Thesis §3.5: commit = min(leaderCommit, index of last new entry).
    const commit = Math.min(m.commit, lastNew)
    if (commit > w.log.committed) w.log = Log.commitTo(w.log, commit)
    ackAppend(w, m, lastNew)
    return
  }
  // Reject with a hint: our last index ≤ prevIndex whose term is ≤ prevTerm (fast repair, thesis §3.5).
  const [hintIndex, hintTerm] = Log.findConflictByTerm(w.log, Math.min(m.prevIndex, Log.lastIndex(w.log)), m.prevTerm)
  send(w, {
    _tag: "AppendEntriesResp",
    term: w.term,
    from: w.config.id,
    to: m.from,
    success: false,
    index: m.prevIndex,
    hintIndex,
    hintTerm,
    ctx: m.ctx
  })
}

export const handleHeartbeat = (w: Work, m: Heartbeat): void => {
  const commit = Math.min(m.commit, Log.lastIndex(w.log))
  if (commit > w.log.committed) w.log = Log.commitTo(w.log, commit)
  send(w, { _tag: "HeartbeatResp", term: w.term, from: w.config.id, to: m.from, ctx: m.ctx })
}

const snapshotResp = (w: Work, m: InstallSnapshot, nextOffset: number, installed: boolean, afterPersist: boolean) => {
  const reply = {
    _tag: "InstallSnapshotResp" as const,
    term: w.term,
    from: w.config.id,
    to: m.from,
    snapshotIndex: m.snapshot.index,
    nextOffset,
    installed,
    ctx: m.ctx
  }
  if (afterPersist) sendAfterPersist(w, reply)
  else send(w, reply)
}

/**
 * Chunks are accepted only in order: a chunk at any other offset is answered with the offset we expect,
 * so the leader resumes there (after a lost chunk, or from 0 after we restarted mid-transfer).
 */
export const handleSnapshot = (w: Work, m: InstallSnapshot): void => {
  const meta = m.snapshot
  if (meta.index <= w.log.committed) {
    snapshotResp(w, m, 0, true, true) // we already have everything it covers
    return
  }
  const same = (r: typeof w.receiving) => r !== undefined && r.meta.index === meta.index && r.meta.term === meta.term
  if (m.offset === 0 && !same(w.receiving)) w.receiving = { meta, nextOffset: 0 }
  const r = w.receiving
  if (r === undefined || !same(r) || m.offset !== r.nextOffset) {
    snapshotResp(w, m, same(r) && r !== undefined ? r.nextOffset : 0, false, false)
    return
  }
  w.out.snapshotChunk = { meta, offset: m.offset, data: m.data, done: m.done }
  if (!m.done) {
    w.receiving = { meta, nextOffset: r.nextOffset + m.data.length }
    snapshotResp(w, m, r.nextOffset + m.data.length, false, true)
    return
  }
  w.receiving = undefined
  if (Log.matchTerm(w.log, meta.index, meta.term)) {
    // Our log already contains the snapshot's last entry: keep the log, just learn the commit (etcd restore()).
    w.log = Log.commitTo(w.log, meta.index)
  } else {
    w.log = Log.restore(w.log, meta)
    w.snapshot = meta
    w.out.installSnapshot = meta
  }
  snapshotResp(w, m, r.nextOffset + m.data.length, true, true)
}
