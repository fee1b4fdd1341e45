/**
 * What the proxy knows: each node's last completed leader check. Pure, so the leader rule can be
 * property-tested. The leader is derived, never stored: nothing can keep pointing at a node whose
 * latest check said "not leader" (or failed), and two proxy replicas that saw the same answers
 * agree on the leader.
 */
export interface NodeCheck {
  /** HTTP status of `/api/leader-check`; null when the check failed or timed out. */
  readonly status: number | null
  readonly error: string | null
  /** Epoch ms when the answer (or failure) arrived. */
  readonly at: number
  readonly latencyMillis: number
}

export interface NodeState {
  readonly url: string
  readonly last: NodeCheck | null
  /**
   * Sequence number of the check at which this node started its current run of 200 answers
   * (0 when its last check is not 200).
   */
  readonly claimSeq: number
}

export interface ProxyState {
  readonly nodes: ReadonlyArray<NodeState>
  /** Number of checks applied so far. */
  readonly seq: number
}

export const initial = (urls: ReadonlyArray<string>): ProxyState => ({
  nodes: urls.map((url) => ({ url, last: null, claimSeq: 0 })),
  seq: 0
})

export const isLeaderAnswer = (check: NodeCheck | null): boolean => check !== null && check.status === 200

/** Records the answer of node `index`. */
export const applyCheck = (state: ProxyState, index: number, check: NodeCheck): ProxyState => {
  const seq = state.seq + 1
  return {
    seq,
    nodes: state.nodes.map((n, i) => {
      if (i !== index) return n
      const claimSeq = !isLeaderAnswer(check) ? 0 : isLeaderAnswer(n.last) ? n.claimSeq : seq
      return { url: n.url, last: check, claimSeq }
    })
  }
}

/**
 * The node to forward to: among the nodes whose latest check answered 200, the one that started
 * claiming leadership most recently (list order on ties). Two nodes answer 200 only around an
 * election, when the deposed leader has not yet noticed; the newer claimant won a later raft term
 * (thesis §3.4: at most one leader per term, and a leader that learns of a higher term steps down).
 */
export const leaderIndex = (state: ProxyState): number | undefined => {
  let best: number | undefined
  state.nodes.forEach((n, i) => {
    if (!isLeaderAnswer(n.last)) return
    if (best === undefined || n.claimSeq > state.nodes[best]!.claimSeq) best = i
  })
  return best
}
