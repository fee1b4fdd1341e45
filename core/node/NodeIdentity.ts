/**
 * This process, as orchestrator's node_health sees it: hostname plus a random per-process token
 * (two nodes on one host stay distinct), the command it runs and the app version.
 */
import { Context } from "effect"

export class NodeIdentity extends Context.Tag("orchestrator/NodeIdentity")<NodeIdentity, {
  readonly hostname: string
  readonly token: string
  readonly command: string
  readonly appVersion: string
  /** The raft address (RaftAdvertise) in raft mode, else `hostname:port` of the HTTP listener. */
  readonly nodeId: string
  /** This node's own HTTP URI (HTTPAdvertise or derived). */
  readonly httpUri: string
  readonly startedAt: number
}>() {}
