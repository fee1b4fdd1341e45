/**
 * Majority quorum arithmetic (thesis §3.4 elections, §3.6 commitment), over a voter list.
 * Pure functions of the voter set; the property test compares them with a naive twin
 * (test/raft/Quorum.test.ts), as etcd's quorum/quick_test.go does.
 */
import type { NodeId } from "./Types.js"

export const majority = (voterCount: number): number => Math.floor(voterCount / 2) + 1

/**
 * The largest value v such that a majority of voters report a value ≥ v (missing voters count as 0).
 * Used for the commit index (values = match indexes) and for the lease / ReadIndex acknowledgement tick
 * (values = the leader tick each voter last acknowledged).
 */
export const committedValue = (voters: ReadonlyArray<NodeId>, valueOf: (id: NodeId) => number | undefined): number => {
  if (voters.length === 0) return 0
  const values = voters.map((id) => valueOf(id) ?? 0).sort((a, b) => b - a)
  return values[majority(voters.length) - 1]!
}

export type VoteResult = "won" | "lost" | "pending"

/** Election outcome given the votes received so far (true = granted). */
export const voteResult = (voters: ReadonlyArray<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult => {
  if (voters.length === 0) return "lost"
  let granted = 0
  let rejected = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === true) granted++
    else if (v === false) rejected++
  }
  const need = majority(voters.length)
  if (granted >= need) return "won"
  if (voters.length - rejected < need) return "lost"
  return "pending"
}
