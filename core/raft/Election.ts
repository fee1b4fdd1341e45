/**
 * Roles, timers and elections (thesis §3.4 leader election, §9.6 PreVote, §6.2 CheckQuorum,
 * §4.2.3 leader stickiness, §3.10 leadership transfer). Each become* function resets what the role owns.
 */
import * as Prng from "./Prng.js"
import * as Progress from "./Progress.js"
import * as Quorum from "./Quorum.js"
import * as Log from "./RaftLog.js"
import * as Replication from "./Replication.js"
import type { Message, PreVote, RequestVote } from "./Message.js"
import type { Work } from "./Work.js"
import { appendToLog, currentSeq, send, sendAfterPersist } from "./Work.js"
import type { NodeId, Term } from "./Types.js"
import { isVoter, None } from "./Types.js"

/** Thesis §3.4: a fresh timeout in [electionTicks, 2*electionTicks) from the state's own PRNG. */
export const resetRandomizedTimeout = (w: Work): void => {
  const [t, prng] = Prng.intBetween(w.prng, w.config.electionTicks, 2 * w.config.electionTicks)
  w.randomizedElectionTimeout = t
  w.prng = prng
}

/**
 * Voters may campaign; a node outside its own configuration (removed, or not yet added) may not. A node
 * that is still a voter of its *committed* configuration may, even when an uncommitted entry removes it:
 * a leader that appended its own removal and crashed may hold the only up-to-date log, and the others
 * (still in the old configuration) would then never gather a majority. It counts votes in its latest
 * configuration, where its own vote does not count, so it can only win with the new members' votes and
 * then steps down once the removal commits (thesis §4.2.2).
 */
export const promotable = (w: Work): boolean =>
  isVoter(w.log.conf, w.config.id) ||
  (w.log.confIndex > w.log.committed && isVoter(Log.confAt(w.log, w.log.committed), w.config.id))

const failPendingReads = (w: Work, reason: string): void => {
  for (const r of w.pendingReads) w.out.readStates.push({ id: r.id, ok: false, reason })
  w.pendingReads = []
}

const resetRole = (w: Work, term: Term): void => {
  if (w.term !== term) {
    w.term = term
    w.vote = None
  }
  w.lead = None
  w.electionElapsed = 0
  w.heartbeatElapsed = 0
  resetRandomizedTimeout(w)
  w.votes = new Map()
  w.selfVoteSeq = -1
  w.progress = new Map()
  w.transferee = None
  w.transferElapsed = 0
  w.leaseRevoked = false
  failPendingReads(w, "leadership lost")
}

export const becomeFollower = (w: Work, term: Term, lead: NodeId): void => {
  if (w.role === "leader") w.contactElapsed = 0 // a deposed leader was in contact with itself until now
  resetRole(w, term)
  w.role = "follower"
  w.lead = lead
}

const becomePreCandidate = (w: Work): void => {
  // PreVote does not change term or vote (thesis §9.6): a partitioned node cannot inflate terms.
  w.role = "precandidate"
  w.lead = None
  w.electionElapsed = 0
  resetRandomizedTimeout(w)
  w.votes = new Map([[w.config.id, true]])
  w.progress = new Map()
  failPendingReads(w, "leadership lost")
}

const becomeCandidate = (w: Work): void => {
  resetRole(w, w.term + 1)
  w.role = "candidate"
  w.vote = w.config.id
  // Our own vote becomes real only once term+vote are durable (thesis §3.8); until then it is not counted,
  // otherwise a crash could let us vote twice in this term.
  w.selfVoteSeq = currentSeq(w)
}

export const becomeLeader = (w: Work): void => {
  resetRole(w, w.term)
  w.role = "leader"
  w.lead = w.config.id
  w.contactElapsed = 0
  const last = Log.lastIndex(w.log)
  for (const id of w.log.conf.voters) {
    const p = Progress.make(last + 1, w.now)
    w.progress.set(id, id === w.config.id ? { ...p, match: w.log.stable, recentActive: true } : p)
  }
  // Thesis §6.4 / §4.1: commit an entry of the new term at once (no-op), so that the commit index is known,
  // reads can be served and configuration changes accepted.
  appendToLog(w, [{ term: w.term, index: last + 1, type: "noop", data: "" }])
  Replication.bcastAppend(w)
}

/** Starts a pre-election, an election, or (on TimeoutNow) an election that bypasses PreVote and stickiness. */
export const campaign = (w: Work, kind: "pre" | "election" | "transfer"): void => {
  if (!promotable(w)) return
  const pre = kind === "pre"
  if (pre) becomePreCandidate(w)
  else becomeCandidate(w)
  sendVoteRequests(w, kind)
  poll(w)
}

/** (Pre)vote requests to every voter that has not answered yet. */
const sendVoteRequests = (w: Work, kind: "pre" | "election" | "transfer"): void => {
  const pre = kind === "pre"
  for (const id of w.log.conf.voters) {
    if (id === w.config.id || w.votes.has(id)) continue
    const fields = {
      term: pre ? w.term + 1 : w.term,
      from: w.config.id,
      to: id,
      lastLogIndex: Log.lastIndex(w.log),
      lastLogTerm: Log.lastTerm(w.log),
      transfer: kind === "transfer"
    }
    send(w, pre ? { _tag: "PreVote", ...fields } : { _tag: "RequestVote", ...fields })
  }
}

/** Tallies votes; wins or loses the (pre-)election when the outcome is decided. */
export const poll = (w: Work): void => {
  const result = Quorum.voteResult(w.log.conf.voters, w.votes)
  if (result === "won") {
    if (w.role === "precandidate") campaign(w, "election")
    else if (w.role === "candidate") becomeLeader(w)
  } else if (result === "lost") {
    becomeFollower(w, w.term, None)
  }
}

/** Counts our own vote once the record holding it is durable (called on Persisted). */
export const maybeCountSelfVote = (w: Work, durableSeq: number): void => {
  if (w.role !== "candidate" || w.selfVoteSeq < 0 || w.selfVoteSeq > durableSeq) return
  w.selfVoteSeq = -1
  w.votes.set(w.config.id, true)
  poll(w)
}

export const recordVote = (w: Work, from: NodeId, granted: boolean): void => {
  if (!isVoter(w.log.conf, from) || w.votes.has(from)) return
  w.votes.set(from, granted)
  poll(w)
}

/**
 * Thesis §4.2.3 with §6.2: a voter that heard from a leader less than electionTicks ago ignores
 * RequestVote/PreVote, unless the candidate was told to campaign by the leader itself (TimeoutNow).
 * This is also the fact the leader lease rests on (Lease.ts).
 */
export const inLease = (w: Work, m: RequestVote | PreVote): boolean =>
  w.config.checkQuorum && !m.transfer && w.contactElapsed < w.config.electionTicks

/**
 * Two followers that time out within a round trip of each other (likely with 50 ms ticks: the randomized
 * timeout has only electionTicks distinct values) would both pass PreVote and split the real vote, costing
 * another election timeout. A pre-candidate therefore refuses the pre-vote of a rival whose log is exactly
 * as up to date and whose id is smaller, so only one of them proceeds. PreVote grants never affect safety
 * (only RequestVote grants do), so this is a pure liveness tie-break.
 */
const yieldsToUs = (w: Work, m: PreVote): boolean =>
  w.role === "precandidate" &&
  m.lastLogIndex === Log.lastIndex(w.log) &&
  m.lastLogTerm === Log.lastTerm(w.log) &&
  m.from < w.config.id

/** Answers a vote or pre-vote request whose term passed the prelude in Step.ts (m.term ≥ our term). */
export const handleVote = (w: Work, m: RequestVote | PreVote): void => {
  const pre = m._tag === "PreVote"
  const canVote = w.vote === m.from ||
    (w.vote === None && w.lead === None) ||
    (pre && m.term > w.term)
  // Stickiness applies at equal terms too: a rejection carrying a higher term (or a stale vote request) can move
  // us to the candidate's term without a leader, right after we heard from the old one. Only repeating a vote
  // already given is exempt (simulator seed 27269 found this hole; etcd checks only m.term > term).
  const sticky = inLease(w, m) && !(m._tag === "RequestVote" && w.vote === m.from)
  const granted = canVote && Log.isUpToDate(w.log, m.lastLogIndex, m.lastLogTerm) && !sticky &&
    !(m._tag === "PreVote" && yieldsToUs(w, m))
  const reply: Message = {
    _tag: pre ? "PreVoteResp" : "RequestVoteResp",
    term: granted ? m.term : w.term,
    from: w.config.id,
    to: m.from,
    granted
  }
  if (pre) {
    send(w, reply)
    return
  }
  if (granted) {
    w.electionElapsed = 0
    w.vote = m.from
  }
  // A vote is a promise about durable state: released only after term+vote are on disk (thesis §3.8).
  sendAfterPersist(w, reply)
}

/** Followers and candidates: count down to an election (thesis §3.4). */
export const tickElection = (w: Work): void => {
  w.electionElapsed++
  w.contactElapsed++
  // Voters still sticky to the dead leader ignore our PreVote without answering; their stickiness may end
  // a tick later (their last heartbeat arrived after ours). Asking again every heartbeat interval, instead of
  // after a whole new election timeout, is what keeps failover p99 under a second (docs/raft.md).
  if (w.role === "precandidate" && w.electionElapsed % w.config.heartbeatTicks === 0) sendVoteRequests(w, "pre")
  if (promotable(w) && w.electionElapsed >= w.randomizedElectionTimeout) {
    w.electionElapsed = 0
    campaign(w, w.config.preVote ? "pre" : "election")
  }
}
