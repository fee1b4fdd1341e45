/** Raft introspection and control (orchestrator's raft-* endpoints, compat spec §1.8). */
import { TextParam } from "../Params.js"
import { NoParams, route, S } from "../RouteDef.js"

const local = { proxy: false, open: true } as const
const localAction = { proxy: false, access: "write" } as const

export const raftRoutes = [
  route("raftState", "raft-state", NoParams, local),
  route("raftLeader", "raft-leader", NoParams, local),
  route("raftHealth", "raft-health", NoParams, local),
  route("raftStatus", "raft-status", NoParams, local),
  route("raftPeers", "raft-peers", NoParams, local),
  route("raftYield", "raft-yield/:node", S({ node: TextParam }), localAction),
  route("raftYieldHint", "raft-yield-hint/:hint", S({ hint: TextParam }), localAction),
  route("raftSnapshot", "raft-snapshot", NoParams, { proxy: false }),
  // Membership changes are proposed by the leader, so followers forward them (orchestrator proxies these two).
  route("raftAddPeer", "raft-add-peer/:addr", S({ addr: TextParam }), { proxy: true, access: "write" }),
  route("raftRemovePeer", "raft-remove-peer/:addr", S({ addr: TextParam }), { proxy: true, access: "write" }),
  // orchestrator's election controls, forwarded to the leader: with raft, reelect makes the leader step down
  // (here: hand leadership to a healthy peer) and grab-election is refused.
  route("reelect", "reelect", NoParams, { proxy: true, access: "write" }),
  route("grabElection", "grab-election", NoParams, { proxy: true, access: "write" })
] as const
