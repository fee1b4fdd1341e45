/**
 * Raft value types shared by the pure core, the wire schemas and the runtime.
 *
 * Terms and indexes are plain non-negative integers (thesis §3.3: "terms act as a logical clock";
 * §3.5: log entries are identified by (index, term)). NodeId is the raft address, e.g.
 * "127.0.0.1:10008", matching orchestrator's `RaftAdvertise`/`RaftNodes` spelling (compat spec §1.6).
 */
import { Schema } from "effect"

export const NodeId = Schema.String
export type NodeId = typeof NodeId.Type

export const Term = Schema.Int.pipe(Schema.nonNegative())
export type Term = typeof Term.Type

export const Index = Schema.Int.pipe(Schema.nonNegative())
export type Index = typeof Index.Type

/** The empty NodeId: "no vote" / "no known leader". */
export const None: NodeId = ""

/**
 * "normal": a client payload (opaque JSON string to raft).
 * "noop": appended by every new leader at the start of its term (thesis §6.4: a leader must commit an
 * entry of its own term before it knows the commit index, and before it may accept a config change, §4.1).
 * "config": a single-server membership change; `data` is the JSON of the resulting ConfState (thesis §4.1).
 */
export const EntryType = Schema.Literal("normal", "noop", "config")
export type EntryType = typeof EntryType.Type

export const Entry = Schema.Struct({
  term: Term,
  index: Index,
  type: EntryType,
  data: Schema.String
})
export type Entry = typeof Entry.Type

/** What must be durable before any message that depends on it is sent (thesis §3.8, Fig. 3.1 "Persistent state"). */
export const HardState = Schema.Struct({
  term: Term,
  vote: NodeId,
  commit: Index
})
export type HardState = typeof HardState.Type

/** The voting membership. Kept sorted so that equal configurations compare equal as JSON. */
export const ConfState = Schema.Struct({
  voters: Schema.Array(NodeId)
})
export type ConfState = typeof ConfState.Type

/** Raft's view of a state-machine snapshot: the bytes are opaque and owned by the runtime (thesis §5.1). */
export const SnapshotMeta = Schema.Struct({
  index: Index,
  term: Term,
  conf: ConfState
})
export type SnapshotMeta = typeof SnapshotMeta.Type

export const emptyHardState: HardState = { term: 0, vote: None, commit: 0 }

export const makeConf = (voters: ReadonlyArray<NodeId>): ConfState => ({
  voters: Array.from(new Set(voters)).sort()
})

export const isVoter = (conf: ConfState, id: NodeId): boolean => conf.voters.includes(id)

export const hardStateEqual = (a: HardState, b: HardState): boolean =>
  a.term === b.term && a.vote === b.vote && a.commit === b.commit

/** Config entries carry the full resulting voter list as JSON. */
export const encodeConf = (conf: ConfState): string => JSON.stringify(conf.voters)

export const decodeConf = (data: string): ConfState => {
  const parsed: unknown = JSON.parse(data)
  if (!Array.isArray(parsed) || !parsed.every((v): v is string => typeof v === "string")) {
    throw new Error(`raft: malformed config entry ${data}`)
  }
  return makeConf(parsed)
}
