/**
 * RaftTransport — moves raft messages between nodes (thesis §3.3: "servers communicate using remote
 * procedure calls"; here one-way messages, responses are messages too, as in etcd-io/raft).
 *
 * Contract:
 *   - `send(to, message)` is fire-and-forget: it queues and returns at once, never waiting for the network
 *     or the peer. Messages to one peer are delivered in the order sent, or not at all; delivery is not
 *     guaranteed (raft retries by itself: heartbeats, AppendEntries probing, election timeouts). A transport
 *     may drop the OLDEST queued messages of a slow or unreachable peer to stay bounded. One peer never
 *     delays another (no head-of-line blocking across peers). `message.from` must be `self` and
 *     `message.to` must be `to`; messages to peers outside the peer set are dropped.
 *   - `inbound` yields messages from peers, already decoded and validated against the wire schema
 *     (core/raft/Message.ts), with the authenticated sender: `from` is the peer id proven by the
 *     connection, and `message.from === from`, `message.to === self`. Messages from nodes outside the peer
 *     set are refused (and logged) before they reach the queue. The queue is bounded and drops the oldest
 *     entries when the runtime falls behind.
 *   - `setPeers(ids)` replaces the peer set (orchestrator's RaftNodes, then membership changes, thesis §4).
 *     `self` in the list is ignored. Connections to removed peers are closed; new peers are reachable at
 *     once. A NodeId is the peer's raft address ("host:port", RaftAdvertise spelling, compat spec §1.6).
 *   - Closing the layer's scope closes every socket and stops every fiber of the transport.
 * Compare hashicorp/raft transport.go (`Transport`) and inmem_transport.go.
 */
import { Context, Effect, Layer, Queue } from "effect"
import type { Message } from "../Message.js"
import type { NodeId } from "../Types.js"

export interface Inbound {
  readonly from: NodeId
  readonly message: Message
}

export interface RaftTransportShape {
  readonly self: NodeId
  readonly send: (to: NodeId, message: Message) => Effect.Effect<void>
  readonly inbound: Queue.Dequeue<Inbound>
  readonly setPeers: (peers: ReadonlyArray<NodeId>) => Effect.Effect<void>
  readonly peers: Effect.Effect<ReadonlyArray<NodeId>>
}

export class RaftTransport extends Context.Tag("orchestrator/raft/RaftTransport")<RaftTransport, RaftTransportShape>() {}

/** Default capacity of the inbound queue (sliding: the oldest message is dropped when it is full). */
export const defaultInboundCapacity = 4096

/** Returns whether a message leaving `self` for `to` is well addressed; shared by the implementations. */
export const misaddressed = (self: NodeId, to: NodeId, message: Message): string | undefined =>
  message.from !== self
    ? `message.from ${message.from} is not this node ${self}`
    : message.to !== to
    ? `message.to ${message.to} differs from destination ${to}`
    : to === self
    ? "message addressed to self"
    : undefined

// ---------------------------------------------------------------------------------------------------------
// In-memory network (hashicorp/raft inmem_transport.go + fuzzy/transport.go hooks)

export type Verdict = "deliver" | "drop"

/** Decides the fate of each message; installed by fault-injection tests (seeded by the caller). */
export type MessageFilter = (from: NodeId, to: NodeId, message: Message) => Verdict

export interface MemoryNetworkStats {
  readonly delivered: number
  readonly dropped: number
}

export interface MemoryNetworkShape {
  /** Drop everything between a and b, both directions. */
  readonly partition: (a: NodeId, b: NodeId) => Effect.Effect<void>
  /** Drop everything from `from` to `to` only (an asymmetric partition). */
  readonly dropOneWay: (from: NodeId, to: NodeId) => Effect.Effect<void>
  /** Undo partition/dropOneWay between a and b, both directions. */
  readonly heal: (a: NodeId, b: NodeId) => Effect.Effect<void>
  readonly healAll: Effect.Effect<void>
  /** Cut a node off from everybody until healed (or healAll). */
  readonly isolate: (id: NodeId) => Effect.Effect<void>
  readonly setFilter: (filter: MessageFilter | undefined) => Effect.Effect<void>
  readonly stats: Effect.Effect<MemoryNetworkStats>
  /** The nodes currently attached. */
  readonly nodes: Effect.Effect<ReadonlyArray<NodeId>>
  /** Used by `layerMemory`; not for tests. */
  readonly attach: (id: NodeId, endpoint: MemoryEndpoint) => Effect.Effect<void>
  readonly detach: (id: NodeId, endpoint: MemoryEndpoint) => Effect.Effect<void>
  readonly route: (from: NodeId, to: NodeId, message: Message) => Effect.Effect<Verdict>
}

export interface MemoryEndpoint {
  readonly peers: ReadonlySet<NodeId>
  readonly queue: Queue.Queue<Inbound>
}

export class MemoryNetwork extends Context.Tag("orchestrator/raft/MemoryNetwork")<MemoryNetwork, MemoryNetworkShape>() {}

const link = (from: NodeId, to: NodeId) => `${from}\u0000${to}`

export const makeMemoryNetwork = (): MemoryNetworkShape => {
  const endpoints = new Map<NodeId, MemoryEndpoint>()
  const blocked = new Set<string>()
  const isolated = new Set<NodeId>()
  let filter: MessageFilter | undefined
  let delivered = 0
  let dropped = 0
  const drop = (): Verdict => {
    dropped++
    return "drop"
  }
  return {
    partition: (a, b) => Effect.sync(() => void blocked.add(link(a, b)).add(link(b, a))),
    dropOneWay: (from, to) => Effect.sync(() => void blocked.add(link(from, to))),
    heal: (a, b) =>
      Effect.sync(() => {
        blocked.delete(link(a, b))
        blocked.delete(link(b, a))
        isolated.delete(a)
        isolated.delete(b)
      }),
    healAll: Effect.sync(() => {
      blocked.clear()
      isolated.clear()
    }),
    isolate: (id) => Effect.sync(() => void isolated.add(id)),
    setFilter: (f) => Effect.sync(() => void (filter = f)),
    stats: Effect.sync(() => ({ delivered, dropped })),
    nodes: Effect.sync(() => Array.from(endpoints.keys())),
    attach: (id, endpoint) => Effect.sync(() => void endpoints.set(id, endpoint)),
    detach: (id, endpoint) =>
      Effect.sync(() => {
        if (endpoints.get(id) === endpoint) endpoints.delete(id)
      }),
    route: (from, to, message) =>
      Effect.sync(() => {
        const target = endpoints.get(to)
        // The receiver refuses senders outside its peer set, as the TCP transport does after the handshake.
        if (target === undefined || !target.peers.has(from)) return drop()
        if (blocked.has(link(from, to)) || isolated.has(from) || isolated.has(to)) return drop()
        if (filter !== undefined && filter(from, to, message) === "drop") return drop()
        if (!Queue.unsafeOffer(target.queue, { from, message })) return drop()
        delivered++
        return "deliver"
      })
  }
}

export const layerMemoryNetwork: Layer.Layer<MemoryNetwork> = Layer.sync(MemoryNetwork, makeMemoryNetwork)

/**
 * One node's transport on the shared MemoryNetwork. Delivery is synchronous and in order; the node leaves
 * the network when the layer's scope closes.
 */
export const layerMemory = (
  self: NodeId,
  options: { readonly peers?: ReadonlyArray<NodeId>; readonly inboundCapacity?: number } = {}
): Layer.Layer<RaftTransport, never, MemoryNetwork> =>
  Layer.scoped(
    RaftTransport,
    Effect.gen(function*() {
      const network = yield* MemoryNetwork
      const queue = yield* Effect.acquireRelease(
        Queue.sliding<Inbound>(options.inboundCapacity ?? defaultInboundCapacity),
        Queue.shutdown
      )
      const peers = new Set<NodeId>()
      const replace = (ids: ReadonlyArray<NodeId>) => {
        peers.clear()
        for (const id of ids) if (id !== self) peers.add(id)
      }
      replace(options.peers ?? [])
      const endpoint: MemoryEndpoint = { peers, queue }
      yield* Effect.acquireRelease(network.attach(self, endpoint), () => network.detach(self, endpoint))
      return RaftTransport.of({
        self,
        send: (to, message) =>
          Effect.suspend(() => {
            const bad = misaddressed(self, to, message)
            if (bad !== undefined) return Effect.logWarning(`raft transport: dropped ${message._tag}: ${bad}`)
            if (!peers.has(to)) return Effect.void
            return Effect.asVoid(network.route(self, to, message))
          }),
        inbound: queue,
        setPeers: (ids) => Effect.sync(() => replace(ids)),
        peers: Effect.sync(() => Array.from(peers))
      })
    })
  )
