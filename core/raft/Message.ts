/**
 * Raft wire messages as `effect/Schema` values, so a transport can decode and validate them
 * (`Schema.decodeUnknown(Message)`). Every message names its sender and receiver and carries the
 * sender's term (thesis §3.3: "if one server's current term is smaller than the other's, then it
 * updates its current term"; "if a server receives a request with a stale term number, it rejects").
 */
import { Schema } from "effect"
import { Entry, Index, NodeId, SnapshotMeta, Term } from "./Types.js"

const header = { term: Term, from: NodeId, to: NodeId }

/**
 * A vote request (thesis §3.4) or a pre-vote request (thesis §9.6: the same question asked without
 * incrementing anyone's term; `term` is the term the candidate would use). `transfer` marks an election
 * started by TimeoutNow (thesis §3.10): voters then ignore leader stickiness (§4.2.3).
 */
const voteFields = { ...header, lastLogIndex: Index, lastLogTerm: Term, transfer: Schema.Boolean }
export const RequestVote = Schema.TaggedStruct("RequestVote", voteFields)
export const PreVote = Schema.TaggedStruct("PreVote", voteFields)
export const RequestVoteResp = Schema.TaggedStruct("RequestVoteResp", { ...header, granted: Schema.Boolean })
export const PreVoteResp = Schema.TaggedStruct("PreVoteResp", { ...header, granted: Schema.Boolean })

/**
 * AppendEntries (thesis §3.5). `ctx` is the leader's tick counter when it sent the message; the follower
 * echoes it so the leader knows a quorum heard from it at or after that tick (lease and ReadIndex, §6.4).
 */
export const AppendEntries = Schema.TaggedStruct("AppendEntries", {
  ...header,
  prevIndex: Index,
  prevTerm: Term,
  entries: Schema.Array(Entry),
  commit: Index,
  ctx: Schema.Int
})

/**
 * Reply to AppendEntries. On success `index` is the follower's new match index. On reject `index` is the
 * rejected `prevIndex` and (`hintIndex`, `hintTerm`) is the follower's last entry at or below it whose term
 * is ≤ the leader's `prevTerm`: the leader skips a whole term of conflicting entries per round trip
 * (thesis §3.5 "the follower can include the term of the conflicting entry and the first index it stores
 * for that term"; etcd's findConflictByTerm).
 */
export const AppendEntriesResp = Schema.TaggedStruct("AppendEntriesResp", {
  ...header,
  success: Schema.Boolean,
  index: Index,
  hintIndex: Index,
  hintTerm: Term,
  ctx: Schema.Int
})

/** Heartbeat: an AppendEntries without entries and without log check (commit is clamped to the match). */
export const Heartbeat = Schema.TaggedStruct("Heartbeat", { ...header, commit: Index, ctx: Schema.Int })
export const HeartbeatResp = Schema.TaggedStruct("HeartbeatResp", { ...header, ctx: Schema.Int })

/**
 * One chunk of a snapshot (thesis §5.1 InstallSnapshot: offset, data, done). `data` is the chunk of the
 * runtime's snapshot bytes, base64 or any string encoding the runtime chose. Chunks are resumable:
 * the follower acknowledges the next offset it expects.
 */
export const InstallSnapshot = Schema.TaggedStruct("InstallSnapshot", {
  ...header,
  snapshot: SnapshotMeta,
  offset: Schema.Int,
  data: Schema.String,
  done: Schema.Boolean,
  ctx: Schema.Int
})

/** `nextOffset` is where the follower wants the next chunk; `installed` when the whole snapshot is durable. */
export const InstallSnapshotResp = Schema.TaggedStruct("InstallSnapshotResp", {
  ...header,
  snapshotIndex: Index,
  nextOffset: Schema.Int,
  installed: Schema.Boolean,
  ctx: Schema.Int
})

/** Leadership transfer: "start an election now" (thesis §3.10). */
export const TimeoutNow = Schema.TaggedStruct("TimeoutNow", header)

export const Message = Schema.Union(
  RequestVote,
  RequestVoteResp,
  PreVote,
  PreVoteResp,
  AppendEntries,
  AppendEntriesResp,
  Heartbeat,
  HeartbeatResp,
  InstallSnapshot,
  InstallSnapshotResp,
  TimeoutNow
)
export type Message = typeof Message.Type
export type MessageTag = Message["_tag"]

export type RequestVote = typeof RequestVote.Type
export type PreVote = typeof PreVote.Type
export type RequestVoteResp = typeof RequestVoteResp.Type
export type PreVoteResp = typeof PreVoteResp.Type
export type AppendEntries = typeof AppendEntries.Type
export type AppendEntriesResp = typeof AppendEntriesResp.Type
export type Heartbeat = typeof Heartbeat.Type
export type HeartbeatResp = typeof HeartbeatResp.Type
export type InstallSnapshot = typeof InstallSnapshot.Type
export type InstallSnapshotResp = typeof InstallSnapshotResp.Type
export type TimeoutNow = typeof TimeoutNow.Type

/** Decoder for transports: unknown JSON → Message, failing with a ParseError. */
export const decodeMessage = Schema.decodeUnknown(Message)
export const decodeMessageSync = Schema.decodeUnknownSync(Message)
