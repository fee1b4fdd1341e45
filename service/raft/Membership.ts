/**
 * RaftNodes versus the cluster's raft configuration.
 *
 * RaftNodes bootstraps a node with an empty log; after that a node's configuration comes from its log and
 * snapshot (core/raft/Raft.ts `init`), so editing RaftNodes and restarting — the deployment guide's way to
 * replace a node — would change nothing once a snapshot exists. This module makes that path work without
 * ever overriding the configuration locally (which could let two disjoint majorities elect two leaders):
 *
 * - Every node announces its RaftNodes in the transport handshake (adapters/raft/Handshake.ts), with
 *   `intent` = "this node asks for its RaftNodes": its RaftNodes differs from the list it recorded when it
 *   last was a member (it heard a leader) of a configuration equal to its RaftNodes — kept in
 *   RaftDataDir/raft-nodes.json — or, for a node with no raft state at all (new or wiped), always until it
 *   records one. A node restarted with an unchanged, stale file (e.g. after raft-remove-peer) thus never
 *   asks to undo an API change; a node upgraded from a version without the record asks for nothing.
 * - The leader changes the configuration to a list L, one voter at a time through ordinary raft
 *   configuration entries (add first, then remove), when a majority of L's own nodes ask for it: nodes that
 *   declare L with intent, and nodes outside the configuration that declare L (a new node has nothing to
 *   undo; it is refused by the members until it is added). Nodes are added only while they are running
 *   (they redial, so they are heard within seconds). If two different lists both have such a majority the
 *   leader does nothing and says so.
 * - A node refused by a peer (it is not in that peer's configuration) logs why, with both lists.
 *
 * Single-server changes keep every old and new majority overlapping (thesis §4.1), so safety is raft's; what
 * this adds is only who asks for the change.
 */
import { Effect, Layer, Schedule } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Declaration } from "../../adapters/raft/TcpTransport.js"
import { RaftNode } from "../../core/raft/runtime/RaftNode.js"

/** A declaration heard from another node in its hello. */
export interface Heard {
  readonly list: ReadonlyArray<string>
  /** Counts toward a change: sent with intent, or by a node outside this node's configuration. */
  counts: boolean
  /** The configuration has equalled `list` since it was heard: it asked for nothing that is not done. */
  consumed: boolean
  at: number
}

interface Refusal {
  readonly reason: string
  readonly voters: ReadonlyArray<string>
}

export interface Membership {
  readonly self: string
  /** RaftNodes of this node, normalized and sorted. */
  readonly declared: ReadonlyArray<string>
  /** For the transport: what this node announces in its hellos. */
  readonly declaration: () => Declaration
  readonly onDeclaration: (from: string, declaration: Declaration, member: boolean) => void
  readonly onRefused: (by: string, reason: string, voters: ReadonlyArray<string>) => void
  /** One line about the peers that refused this node, for the join watchdog ("" if none). */
  readonly refusalSummary: () => string
  readonly state: MembershipState
}

/** Outsiders redial at least every second (transport backoff cap): older than this, they are gone. */
const outsiderFreshMillis = 10_000
const recordFileName = "raft-nodes.json"

const sorted = (xs: ReadonlyArray<string>): ReadonlyArray<string> => [...new Set(xs)].sort()
const sameSet = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => sorted(a).join(",") === sorted(b).join(",")
const show = (xs: ReadonlyArray<string>) => `[${sorted(xs).join(", ")}]`

export interface MembershipState {
  recorded: ReadonlyArray<string> | undefined
  intent: boolean
  readonly heard: Map<string, Heard>
  readonly refusals: Map<string, Refusal>
}

const readRecord = (file: string): ReadonlyArray<string> | undefined => {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
    if (typeof parsed === "object" && parsed !== null && "raftNodes" in parsed && Array.isArray(parsed.raftNodes)) {
      return sorted(parsed.raftNodes.filter((x: unknown): x is string => typeof x === "string"))
    }
    return undefined
  } catch {
    // Absent (a new node, or one from a version without the file) or unreadable: nothing recorded.
    return undefined
  }
}

/** Atomically replaces the record (write, fsync, rename): a torn file would read as "nothing recorded". */
const writeRecord = (dataDir: string, list: ReadonlyArray<string>) =>
  Effect.try(() => {
    fs.mkdirSync(dataDir, { recursive: true })
    const file = path.join(dataDir, recordFileName)
    const tmp = `${file}.tmp`
    const fd = fs.openSync(tmp, "w")
    try {
      fs.writeSync(fd, JSON.stringify({ raftNodes: sorted(list) }) + "\n")
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  })

/** Reads RaftDataDir/raft-nodes.json and sets up the declaration this node announces. */
export const make = (options: { readonly self: string; readonly raftNodes: ReadonlyArray<string>; readonly dataDir: string }) =>
  Effect.sync((): Membership => {
    const declared = sorted(options.raftNodes)
    const recorded = readRecord(path.join(options.dataDir, recordFileName))
    // Decided here, before the transport's first dial, so no hello ever carries a provisional value.
    // RaftDataDir/stable (adapters/raft/FileStableStore.ts) exists once the node ever ran.
    const hasRaftState = fs.existsSync(path.join(options.dataDir, "stable"))
    const state: MembershipState = {
      recorded,
      intent: recorded !== undefined ? !sameSet(recorded, declared) : !hasRaftState,
      heard: new Map(),
      refusals: new Map()
    }
    const m: Membership = {
      self: options.self,
      declared,
      declaration: () => ({ raftNodes: declared, intent: state.intent }),
      onDeclaration: (from, d, member) => {
        const list = sorted(d.raftNodes)
        const prev = state.heard.get(from)
        // A node that asked while outside keeps asking after it was added (it reconnects as a member, no
        // intent) until the configuration equals its list: otherwise the change would stop half-way.
        const stillAsking = prev !== undefined && prev.counts && !prev.consumed && sameSet(prev.list, list)
        state.heard.set(from, { list, counts: d.intent || !member || stillAsking, consumed: false, at: Date.now() })
      },
      onRefused: (by, reason, voters) => {
        state.refusals.set(by, { reason, voters: sorted(voters) })
      },
      refusalSummary: () =>
        [...state.refusals].map(([by, r]) => `${by} refused it (${r.reason}; its configuration is ${show(r.voters)})`).join("; "),
      state
    }
    return m
  })

export type Decision =
  | { readonly _tag: "None" }
  | { readonly _tag: "Conflict"; readonly lists: ReadonlyArray<Supported> }
  | { readonly _tag: "Wait"; readonly list: ReadonlyArray<string>; readonly supporters: ReadonlyArray<string>; readonly missing: ReadonlyArray<string> }
  | { readonly _tag: "Add" | "Remove"; readonly list: ReadonlyArray<string>; readonly supporters: ReadonlyArray<string>; readonly node: string }

interface Supported {
  readonly list: ReadonlyArray<string>
  readonly supporters: ReadonlyArray<string>
}

const why = (d: Supported) => `RaftNodes ${show(d.list)} is declared by a majority of its nodes (${d.supporters.join(", ")})`

/**
 * The leader's next membership step (pure; see the module comment): the list a majority of its own nodes
 * asks for, and the one voter to add (running ones only) or, once none is missing, to remove (the leader
 * itself last). `heard` entries whose list equals `voters` must already be marked consumed.
 */
export const decide = (input: {
  readonly self: string
  readonly voters: ReadonlyArray<string>
  readonly declared: ReadonlyArray<string>
  readonly intent: boolean
  readonly heard: ReadonlyMap<string, Heard>
  readonly now: number
}): Decision => {
  const { self, voters, heard, now } = input
  const fresh = (id: string) => {
    const h = heard.get(id)
    return h !== undefined && now - h.at < outsiderFreshMillis
  }
  const supports = (id: string, list: ReadonlyArray<string>) => {
    if (id === self) return input.intent && sameSet(input.declared, list)
    const h = heard.get(id)
    if (h === undefined || !h.counts || h.consumed || !sameSet(h.list, list)) return false
    // A member's declaration stands while it runs with that file; an outsider's only while it redials.
    return voters.includes(id) || fresh(id)
  }
  const lists = new Map<string, ReadonlyArray<string>>()
  if (input.intent) lists.set(sorted(input.declared).join(","), sorted(input.declared))
  for (const h of heard.values()) if (h.counts && !h.consumed) lists.set(sorted(h.list).join(","), sorted(h.list))
  const qualified: Array<Supported> = []
  for (const list of lists.values()) {
    if (sameSet(list, voters)) continue
    const supporters = list.filter((id) => supports(id, list))
    if (supporters.length >= Math.floor(list.length / 2) + 1) qualified.push({ list, supporters })
  }
  if (qualified.length === 0) return { _tag: "None" }
  if (qualified.length > 1) return { _tag: "Conflict", lists: qualified }
  const { list, supporters } = qualified[0]!
  const missing = list.filter((id) => !voters.includes(id))
  if (missing.length > 0) {
    const node = missing.find((id) => id === self || fresh(id))
    return node === undefined ? { _tag: "Wait", list, supporters, missing } : { _tag: "Add", list, supporters, node }
  }
  const extra = voters.filter((id) => !list.includes(id))
  // This node last: a leader that removes itself steps down once the change commits.
  const node = extra.find((id) => id !== self) ?? extra[0]
  return node === undefined ? { _tag: "None" } : { _tag: "Remove", list, supporters, node }
}

/** Logs `line` at most once per `everyMillis` for `key`. */
const rateLimited = () => {
  const last = new Map<string, number>()
  return (key: string, everyMillis: number, log: Effect.Effect<void>) =>
    Effect.suspend(() => {
      const now = Date.now()
      if (now - (last.get(key) ?? -Infinity) < everyMillis) return Effect.void
      last.set(key, now)
      return log
    })
}

/**
 * Start-up comparison of RaftNodes with the configuration in RaftDataDir, the record of the last matching
 * RaftNodes, refusal log lines, and the leader's reconciliation (see the module comment).
 */
export const layer = (m: Membership, dataDir: string) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const raft = yield* RaftNode
    const state = m.state
    const once = rateLimited()
    const initial = yield* raft.status
    if (sameSet(initial.voters, m.declared)) {
      // Nothing to say; the record is written once this node is a member of that configuration (tick).
    } else if (state.intent) {
      yield* Effect.logWarning(
        `raft: RaftNodes ${show(m.declared)} differs from the configuration in RaftDataDir ${show(initial.voters)}; it was ` +
          `edited since this node last matched the cluster (it was ${show(state.recorded ?? [])}): once a majority of the nodes ` +
          `of ${show(m.declared)} run with it, the leader changes the configuration to it, one node at a time`
      )
    } else {
      yield* Effect.logWarning(
        `raft: RaftNodes ${show(m.declared)} differs from the configuration in RaftDataDir ${show(initial.voters)}, which ` +
          `is used (it was changed by raft-add-peer/raft-remove-peer or by the other nodes' RaftNodes): update RaftNodes ` +
          `to match it`
      )
    }

    const tick = Effect.gen(function*() {
      const s = yield* raft.status
      const voters = sorted(s.voters)
      // A member (it heard a leader) of the configuration its RaftNodes describes: record that list. Not
      // before it heard a leader: a new node's own bootstrap configuration is not the cluster's.
      const matching = s.hasJoined && s.leader !== "" && sameSet(voters, m.declared)
      if (matching && (state.intent || state.recorded === undefined || !sameSet(state.recorded, m.declared))) {
        const wasAsking = state.intent && state.recorded !== undefined
        yield* Effect.ignore(writeRecord(dataDir, m.declared))
        state.recorded = m.declared
        state.intent = false
        if (wasAsking) yield* Effect.logInfo(`raft: the configuration now matches RaftNodes ${show(m.declared)}`)
      }
      for (const h of state.heard.values()) if (sameSet(h.list, voters)) h.consumed = true
      for (const [by, r] of state.refusals) {
        yield* once(
          `refused ${by}`,
          60_000,
          Effect.logError(
            `raft: ${by} refuses this node (${m.self}): ${r.reason}; its configuration is ${show(r.voters)}, this node's ` +
              `RaftNodes is ${show(m.declared)}. A node joins when the cluster's configuration includes it: change RaftNodes ` +
              `on a majority of the nodes of the new list, or raft-add-peer on the leader (docs/operations.md "Replacing a node")`
          )
        )
      }
      // Hearing a leader means this node is in; what older refusals said no longer holds.
      if (s.leader !== "") state.refusals.clear()
      if (s.role !== "leader") return

      const d = decide({ self: m.self, voters, declared: m.declared, intent: state.intent, heard: state.heard, now: Date.now() })
      switch (d._tag) {
        case "None":
          return
        case "Conflict":
          return yield* once(
            "conflict",
            60_000,
            Effect.logError(
              `raft: RaftNodes differs between nodes and more than one list is declared by a majority of its nodes (` +
                d.lists.map((q) => `${show(q.list)} by ${q.supporters.join(", ")}`).join("; ") +
                `): the configuration ${show(voters)} is left as it is; make RaftNodes identical on every node`
            )
          )
        case "Wait":
          return yield* once(
            `wait ${d.missing.join(",")}`,
            30_000,
            Effect.logInfo(`raft: ${why(d)}; waiting for ${d.missing.join(", ")} to run before adding it`)
          )
        case "Add": {
          yield* Effect.logInfo(`raft: ${why(d)}: adding ${d.node} to the configuration ${show(voters)}`)
          const r = yield* Effect.either(raft.addVoter(d.node))
          if (r._tag === "Left") yield* Effect.logWarning(`raft: adding ${d.node} failed (${r.left.message}); retrying`)
          return
        }
        case "Remove": {
          yield* Effect.logInfo(`raft: ${why(d)}: removing ${d.node} from the configuration ${show(voters)}`)
          const r = yield* Effect.either(raft.removeVoter(d.node))
          if (r._tag === "Left") yield* Effect.logWarning(`raft: removing ${d.node} failed (${r.left.message}); retrying`)
          return
        }
      }
    })
    yield* Effect.forkScoped(Effect.repeat(Effect.ignore(tick), Schedule.spaced("250 millis")))
  }))
