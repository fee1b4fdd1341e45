/**
 * Leader lease and ReadIndex (thesis §6.4 "Processing read-only queries more efficiently", §6.4.1).
 *
 * Every AppendEntries / Heartbeat / InstallSnapshot carries `ctx` = the leader's tick when it was sent, and
 * the follower echoes it back. quorumAckTick = the largest tick q such that a majority of voters (the
 * leader counting itself at `now`) received a message the leader sent at tick ≥ q.
 *
 * Why the lease is safe: every voter that received a leader message at (real) time ≥ q refuses to grant
 * any vote that is not a leadership transfer until electionTicks of its own ticks have passed since
 * (Election.inLease: leader stickiness, kept across restarts by starting contactElapsed at 0). A new leader
 * needs a vote from at least one of them (majorities intersect), so no other node can become leader
 * before q + electionTicks. The lease ends at q + leaseTicks with leaseTicks ≤ electionTicks − 2: one tick
 * of margin for where each side's tick boundary falls, plus whatever the operator adds for clock-rate drift.
 * Leadership transfers bypass stickiness, so a leader that sent TimeoutNow voids its lease for the rest of
 * its term (leaseRevoked), and steps down if the transfer then fails (Replication.tickHeartbeat).
 */
import * as Quorum from "./Quorum.js"
import * as Log from "./RaftLog.js"
import type { RaftState } from "./State.js"
import type { Work } from "./Work.js"

type LeaseView = Pick<RaftState, "config" | "progress" | "now" | "log">
export type LeaseState = Pick<RaftState, "config" | "progress" | "now" | "log" | "role" | "leaseRevoked" | "term">

export const quorumAckTick = (s: LeaseView): number =>
  Quorum.committedValue(s.log.conf.voters, (id) => id === s.config.id ? s.now : s.progress.get(id)?.ackTick ?? -1)

/** The leader has committed an entry of its own term, so its commit index is current (thesis §6.4 step 1). */
export const committedInTerm = (s: Pick<RaftState, "log" | "term">): boolean =>
  Log.term(s.log, s.log.committed) === s.term

/**
 * True iff this node is leader and no other node can be leader now. `nowTick` is the runtime's current tick
 * computed from a monotonic clock (ticks that are due but not yet delivered count), so a stalled event loop
 * cannot stretch the lease. This is what /api/leader-check answers.
 */
export const isLeaderWithLease = (s: LeaseState, nowTick: number): boolean =>
  s.role === "leader" &&
  s.config.checkQuorum &&
  !s.leaseRevoked &&
  committedInTerm(s) &&
  quorumAckTick(s) + s.config.leaseTicks > Math.max(nowTick, s.now)

/** The tick at which the current lease runs out (exclusive), or undefined without a lease. */
export const leaseExpiryTick = (s: LeaseState): number | undefined =>
  isLeaderWithLease(s, s.now) ? quorumAckTick(s) + s.config.leaseTicks : undefined

/**
 * Releases ReadIndex requests whose leadership confirmation is complete: a quorum acknowledged a message
 * sent at or after the request (thesis §6.4 steps 2–3), or the lease covers now. The read index is the
 * commit index at release time, which is ≥ the one at arrival (still linearizable).
 */
export const releaseReads = (w: Work): void => {
  if (w.role !== "leader" || w.pendingReads.length === 0 || !committedInTerm(w)) return
  const q = quorumAckTick(w)
  const leased = !w.leaseRevoked && w.config.checkQuorum && q + w.config.leaseTicks > w.now
  const kept = []
  for (const r of w.pendingReads) {
    if (leased || q >= r.tick) w.out.readStates.push({ id: r.id, ok: true, index: w.log.committed })
    else kept.push(r)
  }
  w.pendingReads = kept
}
