/**
 * The private, mutable working copy `step` uses while it handles one input. `thaw` copies the parts of
 * the immutable RaftState that get mutated; `freeze` turns the copy back into a RaftState and collects the
 * Output. Nothing outside `step` ever sees a Work, so `step` is a pure function of (state, input).
 * (Style: etcd's *raft struct, whose send() only appends to msgs / msgsAfterAppend.)
 */
import type { Message } from "./Message.js"
import type { Progress } from "./Progress.js"
import * as Log from "./RaftLog.js"
import type {
  Output,
  PendingWrite,
  Persist,
  ProposalResult,
  RaftEvent,
  RaftState,
  ReadState,
  SnapshotRead,
  StepResult
} from "./State.js"
import type { Entry, HardState, Index, SnapshotMeta } from "./Types.js"
import { hardStateEqual } from "./Types.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export interface Out {
  messages: Array<Message>
  messagesAfterPersist: Array<Message>
  applySnapshot: SnapshotMeta | undefined
  proposals: Array<ProposalResult>
  readStates: Array<ReadState>
  snapshotReads: Array<SnapshotRead>
  events: Array<RaftEvent>
  /** Lowest index rewritten on the log this step (the persist record truncates there). */
  writeFrom: Index | undefined
  snapshotChunk: Persist["snapshotChunk"]
  installSnapshot: SnapshotMeta | undefined
  compactTo: Index | undefined
}

export type Work = Omit<Mutable<RaftState>, "progress" | "votes"> & {
  progress: Map<string, Progress>
  votes: Map<string, boolean>
  readonly out: Out
}

const newOut = (): Out => ({
  messages: [],
  messagesAfterPersist: [],
  applySnapshot: undefined,
  proposals: [],
  readStates: [],
  snapshotReads: [],
  events: [],
  writeFrom: undefined,
  snapshotChunk: undefined,
  installSnapshot: undefined,
  compactTo: undefined
})

// Field-by-field copies (not spreads / rest patterns): this runs twice per step and dominates the simulator.
export const thaw = (s: RaftState): Work => ({
  config: s.config,
  prng: s.prng,
  role: s.role,
  term: s.term,
  vote: s.vote,
  lead: s.lead,
  log: s.log,
  snapshot: s.snapshot,
  now: s.now,
  electionElapsed: s.electionElapsed,
  heartbeatElapsed: s.heartbeatElapsed,
  contactElapsed: s.contactElapsed,
  randomizedElectionTimeout: s.randomizedElectionTimeout,
  votes: new Map(s.votes),
  selfVoteSeq: s.selfVoteSeq,
  progress: new Map(s.progress),
  transferee: s.transferee,
  transferElapsed: s.transferElapsed,
  leaseRevoked: s.leaseRevoked,
  pendingReads: s.pendingReads,
  persist: s.persist,
  receiving: s.receiving,
  out: newOut()
})

const toState = (w: Work): RaftState => ({
  config: w.config,
  prng: w.prng,
  role: w.role,
  term: w.term,
  vote: w.vote,
  lead: w.lead,
  log: w.log,
  snapshot: w.snapshot,
  now: w.now,
  electionElapsed: w.electionElapsed,
  heartbeatElapsed: w.heartbeatElapsed,
  contactElapsed: w.contactElapsed,
  randomizedElectionTimeout: w.randomizedElectionTimeout,
  votes: w.votes,
  selfVoteSeq: w.selfVoteSeq,
  progress: w.progress,
  transferee: w.transferee,
  transferElapsed: w.transferElapsed,
  leaseRevoked: w.leaseRevoked,
  pendingReads: w.pendingReads,
  persist: w.persist,
  receiving: w.receiving
})

/** The sequence number the persist record of the current step gets (if it emits one). */
export const currentSeq = (w: Work): number => w.persist.seq + 1

/** Appends entries to the in-memory log and remembers that the disk log must be rewritten from there. */
export const appendToLog = (w: Work, entries: ReadonlyArray<Entry>): void => {
  if (entries.length === 0) return
  w.log = Log.append(w.log, entries)
  const from = entries[0]!.index
  w.out.writeFrom = w.out.writeFrom === undefined ? from : Math.min(w.out.writeFrom, from)
}

export const send = (w: Work, m: Message): void => {
  w.out.messages.push(m)
}

/** Messages that acknowledge durable state: released by the runtime only after this step's record is durable. */
export const sendAfterPersist = (w: Work, m: Message): void => {
  w.out.messagesAfterPersist.push(m)
}

const hardStateOf = (w: Work): HardState => ({ term: w.term, vote: w.vote, commit: w.log.committed })

const buildPersist = (w: Work): Persist | undefined => {
  const hs = hardStateOf(w)
  const hsChanged = !hardStateEqual(hs, w.persist.hardState)
  const o = w.out
  const needed = hsChanged || o.writeFrom !== undefined || o.installSnapshot !== undefined ||
    o.snapshotChunk !== undefined || o.compactTo !== undefined || o.messagesAfterPersist.length > 0
  if (!needed) return undefined
  const seq = currentSeq(w)
  const entries = o.writeFrom === undefined ? [] : Log.slice(w.log, o.writeFrom, Log.lastIndex(w.log) + 1)
  const writes: Array<PendingWrite> = [...w.persist.writes]
  if (o.installSnapshot !== undefined) writes.push({ seq, from: 1, to: Log.lastIndex(w.log) })
  else if (o.writeFrom !== undefined) writes.push({ seq, from: o.writeFrom, to: Log.lastIndex(w.log) })
  w.persist = {
    ...w.persist,
    seq,
    writes,
    hardState: hs,
    install: o.installSnapshot !== undefined ? { seq, meta: o.installSnapshot } : w.persist.install
  }
  return {
    seq,
    hardState: hsChanged ? hs : undefined,
    entries,
    snapshotChunk: o.snapshotChunk,
    installSnapshot: o.installSnapshot,
    compactTo: o.compactTo
  }
}

export const freeze = (w: Work): StepResult => {
  const persist = buildPersist(w)
  const committed = Log.nextToApply(w.log)
  if (committed.length > 0) w.log = { ...w.log, applied: committed[committed.length - 1]!.index }
  const out = w.out
  const state = toState(w)
  const output: Output = {
    persist,
    messages: out.messages,
    messagesAfterPersist: out.messagesAfterPersist,
    applySnapshot: out.applySnapshot,
    committed,
    proposals: out.proposals,
    readStates: out.readStates,
    snapshotReads: out.snapshotReads,
    events: out.events
  }
  return { state, output }
}
