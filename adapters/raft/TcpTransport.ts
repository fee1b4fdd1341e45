/**
 * RaftTransport over TCP (RaftBind, default port 10008): length-prefixed JSON frames (Frame.ts), an
 * HMAC-SHA256 challenge–response handshake (Handshake.ts), one outbound connection per peer.
 *
 * Connections are one-way: a node sends on the connection it dialled and receives on the ones it accepted
 * (a response travels on the responder's own outbound connection), so there is no connection-merging race.
 * Outbound: each peer has a bounded sliding queue (the oldest message is dropped when it overflows: raft
 * tolerates loss) and a fiber that takes up to `maxBatch` queued messages, writes them corked (one writev),
 * and waits for `drain` only on its own socket; a slow or dead peer never delays another. A broken
 * connection is redialled with capped exponential backoff (50 ms doubling to 1 s).
 * Inbound: every frame after the handshake must be a Message (Schema-decoded) from the authenticated peer
 * to this node; a malformed, oversized or misattributed frame closes that connection with a log line.
 * node:net is used directly rather than Effect's NodeSocket: we need cork/uncork, a header-first frame
 * limit and per-socket teardown, and raw sockets measured faster (docs/raft-storage.md).
 */
import { Data, Effect, Either, Fiber, Layer, Option, Queue, Runtime, Schema, type Scope } from "effect"
import * as net from "node:net"
import { Message } from "../../core/raft/Message.js"
import { compileGuard } from "../../core/raft/MessageGuard.js"
import type { Inbound } from "../../core/raft/ports/RaftTransport.js"
import { defaultInboundCapacity, misaddressed, RaftTransport } from "../../core/raft/ports/RaftTransport.js"
import type { NodeId } from "../../core/raft/Types.js"
import { FrameError, FrameReader, jsonFrame } from "./Frame.js"
import * as Handshake from "./Handshake.js"

export class RaftTransportError extends Data.TaggedError("RaftTransportError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

export interface TcpTransportOptions {
  /** This node's id (RaftAdvertise, default RaftBind). */
  readonly self: NodeId
  /** Where to listen (RaftBind). */
  readonly bind: { readonly host: string; readonly port: number }
  readonly peers: ReadonlyArray<NodeId>
  /** Shared secret (RaftAuthSecret / RaftAuthSecretFile). Empty: no authentication (a warning is logged). */
  readonly secret: string
  /** Largest accepted frame; a larger one closes the connection. Default 16 MiB. */
  readonly maxFrameBytes?: number
  readonly handshakeTimeoutMillis?: number
  /** Messages queued per peer before the oldest are dropped. Default 1024. */
  readonly peerQueueCapacity?: number
  readonly inboundCapacity?: number
  readonly maxBatch?: number
  readonly backoffMinMillis?: number
  readonly backoffMaxMillis?: number
  /** A peer whose socket stays full this long is disconnected. Default 10 s. */
  readonly writeStallMillis?: number
  /** What this node declares in every hello (its RaftNodes), read at each dial. Absent: nothing declared. */
  readonly declaration?: () => Declaration
  /** An authenticated dialer's declaration; `member`: it is in this node's peer set (else it is refused next). */
  readonly onDeclaration?: (from: NodeId, declaration: Declaration, member: boolean) => void
  /** A listener authenticated this node and refused it (it is not in that node's configuration). */
  readonly onRefused?: (by: NodeId, reason: string, voters: ReadonlyArray<NodeId>) => void
}

/** A node's RaftNodes as it announces it to its peers (service/raft/Membership.ts decides what it means). */
export interface Declaration {
  readonly raftNodes: ReadonlyArray<NodeId>
  readonly intent: boolean
}

/** Refusals of the same dialer are logged at warning at most this often (it redials every second). */
const refusalLogEveryMillis = 60_000

export const defaultPort = 10008
export const defaultMaxFrameBytes = 16 * 1024 * 1024

/** "host:port" or "[v6]:port" → dial address. */
export const parseAddress = (id: NodeId): { host: string; port: number } | undefined => {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(id) ?? /^([^:[\]]+):(\d{1,5})$/.exec(id)
  if (m === null) return undefined
  const port = Number(m[2])
  return port > 0 && port < 65536 ? { host: m[1]!, port } : undefined
}

const decodeMessage = Schema.decodeUnknownEither(Message)
/**
 * The same check without building a decoded copy (core/raft/MessageGuard.ts); Schema then only explains rejects.
 * Were the schema ever beyond the guard compiler, every frame would simply go through Schema.
 */
const isMessage = compileGuard(Message.ast) ?? (() => false)
/** Above this many bytes buffered in the socket, sends go through the queue and its drain handling. */
const fastPathMaxBuffered = 1024 * 1024

const short = (s: string) => (s.length > 300 ? s.slice(0, 297) + "..." : s)

interface Conn {
  readonly socket: net.Socket
  closed: boolean
}

interface Peer {
  readonly id: NodeId
  readonly queue: Queue.Queue<Message>
  fiber: Fiber.RuntimeFiber<void> | undefined
  /** The open connection, once the handshake is done. */
  conn: Conn | undefined
  /** The peer fiber is waiting for messages with nothing in hand (see the fast path in `send`). */
  idle: boolean
  corked: boolean
  /** Set while the dialler waits out its backoff: ends the wait and resets the backoff. */
  wake: (() => void) | undefined
}

export const make = (options: TcpTransportOptions): Effect.Effect<RaftTransport["Type"], RaftTransportError, Scope.Scope> =>
  Effect.gen(function*() {
    const self = options.self
    const secret = options.secret
    const mode: Handshake.AuthMode = secret === "" ? "none" : "hmac-sha256"
    const maxFrameBytes = options.maxFrameBytes ?? defaultMaxFrameBytes
    const handshakeTimeout = options.handshakeTimeoutMillis ?? 2000
    const peerCapacity = options.peerQueueCapacity ?? 1024
    const maxBatch = options.maxBatch ?? 256
    const backoffMin = options.backoffMinMillis ?? 50
    const backoffMax = options.backoffMaxMillis ?? 1000
    const writeStall = options.writeStallMillis ?? 10_000
    const scope = yield* Effect.scope
    const runtime = yield* Effect.runtime<never>()
    const logSync = (effect: Effect.Effect<void>) => Runtime.runSync(runtime)(effect.pipe(Effect.annotateLogs("raft", self)))
    const warn = (message: string) => logSync(Effect.logWarning(`raft transport: ${message}`))

    if (secret === "") {
      yield* Effect.logWarning(
        "raft transport: RaftAuthSecret/RaftAuthSecretFile is empty: peers announce their ids but are NOT authenticated"
      ).pipe(Effect.annotateLogs("raft", self))
    }

    const peerSet = new Set<NodeId>()
    /** Outbound side: one dialler per peer (declared before the listener, which wakes them). */
    const peers = new Map<NodeId, Peer>()
    const refusalsLogged = new Map<NodeId, number>()
    const inbound = yield* Effect.acquireRelease(
      Queue.sliding<Inbound>(options.inboundCapacity ?? defaultInboundCapacity),
      Queue.shutdown
    )

    // ---------------------------------------------------------------- inbound (listener side)
    const accepted = new Map<net.Socket, { peer: NodeId | undefined }>()

    const serve = (socket: net.Socket) => {
      socket.setNoDelay(true)
      const remote = `${socket.remoteAddress}:${socket.remotePort}`
      const state: { peer: NodeId | undefined } = { peer: undefined }
      accepted.set(socket, state)
      const reader = new FrameReader(Handshake.handshakeMaxFrameBytes)
      let phase: "hello" | "auth" | "open" = "hello"
      let hello: typeof Handshake.Hello.Type | undefined
      let serverNonce = ""
      let dropped = false
      const timer = setTimeout(() => drop("handshake timed out"), handshakeTimeout)
      const drop = (reason: string) => {
        if (dropped) return
        dropped = true
        clearTimeout(timer)
        warn(`closing connection from ${state.peer ?? hello?.from ?? "?"} (${remote}): ${reason}`)
        socket.destroy()
      }
      /** An authenticated dialer outside the configuration: tell it why, then close. */
      const refuse = (from: NodeId) => {
        dropped = true
        clearTimeout(timer)
        const voters = [self, ...peerSet].sort()
        const reason = `${from} is not in the configuration of ${self}`
        const now = Date.now()
        const line = `closing connection from ${from} (${remote}): refused: ${from} is not in the peer set (configuration ${voters.join(", ")})`
        if (now - (refusalsLogged.get(from) ?? -Infinity) >= refusalLogEveryMillis) {
          refusalsLogged.set(from, now)
          warn(line)
        } else {
          logSync(Effect.logDebug(`raft transport: ${line}`))
        }
        socket.end(jsonFrame({ t: "refused", reason, voters }))
        // end() flushes the verdict first; a dialer that never closes its side is cut off after a second.
        setTimeout(() => socket.destroy(), 1000).unref()
      }
      const onFrame = (frame: Buffer): void => {
        if (phase === "open") {
          let raw: unknown
          try {
            raw = JSON.parse(frame.toString("utf8"))
          } catch {
            return drop("frame is not JSON")
          }
          let m: Message
          if (isMessage(raw)) m = raw as Message
          else {
            const decoded = decodeMessage(raw)
            if (Either.isLeft(decoded)) return drop(`invalid message: ${short(String(decoded.left.message))}`)
            m = decoded.right
          }
          const peer = state.peer!
          if (m.from !== peer) return drop(`message claims to be from ${m.from}`)
          if (m.to !== self) return drop(`message is addressed to ${m.to}`)
          if (!peerSet.has(peer)) return drop("peer is no longer in the peer set")
          Queue.unsafeOffer(inbound, { from: peer, message: m })
          return
        }
        if (phase === "hello") {
          const h = Handshake.decodeHello(frame.toString("utf8"))
          if (Either.isLeft(h)) return drop("expected a hello")
          hello = h.right
          if (hello.to !== self) return drop(`hello is addressed to ${hello.to}, this node is ${self}`)
          if (hello.from === self) return drop(`refused: ${hello.from} is this node's own id`)
          // A dialer that understands verdicts is authenticated before it is refused, so it can be told why.
          if (!peerSet.has(hello.from) && hello.verdict !== true) return drop(`refused: ${hello.from} is not in the peer set`)
          if (hello.auth !== mode) return drop(`peer offers authentication "${hello.auth}", this node requires "${mode}"`)
          serverNonce = Handshake.nonce()
          const proof = Handshake.mac(secret, "server", hello.from, self, hello.nonce, serverNonce)
          socket.write(jsonFrame({
            t: "challenge",
            v: Handshake.protocolVersion,
            from: self,
            nonce: serverNonce,
            mac: proof,
            ...(hello.verdict === true ? { verdict: true } : {})
          }))
          phase = "auth"
          return
        }
        const a = Handshake.decodeAuth(frame.toString("utf8"))
        if (Either.isLeft(a)) return drop("expected an auth frame")
        const h = hello!
        if (mode === "hmac-sha256") {
          const expected = Handshake.mac(secret, "client", h.from, self, h.nonce, serverNonce)
          if (!Handshake.macEqual(a.right.mac, expected)) return drop(`authentication of ${h.from} failed (wrong secret?)`)
        }
        const member = peerSet.has(h.from)
        if (h.raftNodes !== undefined) options.onDeclaration?.(h.from, { raftNodes: h.raftNodes, intent: h.intent === true }, member)
        if (!member) return refuse(h.from)
        if (h.verdict === true) socket.write(jsonFrame({ t: "welcome" }))
        clearTimeout(timer)
        // The peer is up and in our configuration: if our dialler is waiting out a backoff to it (e.g. it
        // refused us until a configuration change added us), redial now rather than up to a second later.
        peers.get(h.from)?.wake?.()
        state.peer = h.from
        reader.maxBytes = maxFrameBytes
        phase = "open"
      }
      socket.on("data", (chunk: Buffer) => {
        if (dropped) return
        let frames: Array<Buffer>
        try {
          frames = reader.push(chunk)
        } catch (cause) {
          return drop(cause instanceof FrameError ? cause.message : String(cause))
        }
        for (const f of frames) {
          onFrame(f)
          if (dropped) return
        }
      })
      socket.on("error", () => {}) // "close" follows
      socket.on("close", () => {
        clearTimeout(timer)
        accepted.delete(socket)
      })
    }

    const server = net.createServer({ noDelay: true }, serve)
    yield* Effect.async<void, RaftTransportError>((resume) => {
      const onError = (cause: Error) =>
        resume(Effect.fail(new RaftTransportError({ message: `cannot listen on ${options.bind.host}:${options.bind.port}: ${cause.message}`, cause })))
      server.once("error", onError)
      server.listen(options.bind.port, options.bind.host, () => {
        server.off("error", onError)
        server.on("error", (cause) => warn(`listener error: ${cause.message}`))
        resume(Effect.void)
      })
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        for (const s of accepted.keys()) s.destroy()
        server.close(() => resume(Effect.void))
      })
    )

    // ---------------------------------------------------------------- outbound (dialer side)
    const dial = (peer: NodeId): Effect.Effect<Conn, string> =>
      Effect.async<Conn, string>((resume) => {
        const address = parseAddress(peer)
        if (address === undefined) {
          resume(Effect.fail(`cannot parse peer address ${peer}`))
          return
        }
        const socket = net.connect({ host: address.host, port: address.port, noDelay: true })
        const reader = new FrameReader(Handshake.handshakeMaxFrameBytes)
        const clientNonce = Handshake.nonce()
        let settled = false
        const timer = setTimeout(() => fail("handshake timed out"), handshakeTimeout)
        const fail = (reason: string) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          socket.destroy()
          resume(Effect.fail(reason))
        }
        let phase: "challenge" | "verdict" = "challenge"
        const open = () => {
          settled = true
          clearTimeout(timer)
          socket.off("data", onData)
          socket.off("close", onClose)
          const conn: Conn = { socket, closed: false }
          // The listener never speaks after its challenge (or verdict); anything else is a protocol error.
          socket.on("data", () => socket.destroy())
          socket.on("close", () => void (conn.closed = true))
          resume(Effect.succeed(conn))
        }
        const onFrame = (frame: Buffer): void => {
          if (phase === "verdict") {
            const v = Handshake.decodeVerdict(frame.toString("utf8"))
            if (Either.isLeft(v)) return fail("expected a verdict")
            if (v.right.t === "welcome") return open()
            options.onRefused?.(peer, v.right.reason, v.right.voters)
            return fail(`refused by ${peer}: ${v.right.reason} (its configuration: ${v.right.voters.join(", ")})`)
          }
          const c = Handshake.decodeChallenge(frame.toString("utf8"))
          if (Either.isLeft(c)) return fail("expected a challenge")
          if (c.right.from !== peer) return fail(`listener says it is ${c.right.from}`)
          if (mode === "hmac-sha256") {
            const expected = Handshake.mac(secret, "server", self, peer, clientNonce, c.right.nonce)
            if (!Handshake.macEqual(c.right.mac, expected)) return fail("the listener failed authentication (wrong secret?)")
          }
          socket.write(jsonFrame({ t: "auth", mac: Handshake.mac(secret, "client", self, peer, clientNonce, c.right.nonce) }))
          // An older listener sends no verdict: the connection is open once our auth frame is out.
          if (c.right.verdict === true) phase = "verdict"
          else open()
        }
        const onData = (chunk: Buffer) => {
          let frames: Array<Buffer>
          try {
            frames = reader.push(chunk)
          } catch (cause) {
            return fail(String(cause))
          }
          for (const f of frames) {
            if (settled) return
            onFrame(f)
          }
        }
        const onClose = () => fail("connection closed during the handshake")
        socket.on("connect", () => {
          const d = options.declaration?.()
          socket.write(jsonFrame({
            t: "hello",
            v: Handshake.protocolVersion,
            from: self,
            to: peer,
            auth: mode,
            nonce: clientNonce,
            verdict: true,
            ...(d === undefined ? {} : { raftNodes: d.raftNodes, intent: d.intent })
          }))
        })
        socket.on("data", onData)
        socket.on("error", (cause) => fail(cause.message))
        socket.on("close", onClose)
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
          socket.destroy()
        })
      })

    const awaitDrain = (conn: Conn): Effect.Effect<void> =>
      Effect.async<void>((resume) => {
        const done = () => {
          clearTimeout(timer)
          conn.socket.off("drain", done)
          conn.socket.off("close", done)
          resume(Effect.void)
        }
        const timer = setTimeout(() => {
          conn.socket.destroy(new Error("write stalled"))
          done()
        }, writeStall)
        conn.socket.on("drain", done)
        conn.socket.on("close", done)
        return Effect.sync(() => {
          clearTimeout(timer)
          conn.socket.off("drain", done)
          conn.socket.off("close", done)
        })
      })

    const frameOf = (peer: NodeId, m: Message): Buffer | undefined => {
      const frame = jsonFrame(m)
      if (frame.length - 4 <= maxFrameBytes) return frame
      warn(`dropped ${m._tag} to ${peer}: ${frame.length - 4} bytes exceed RaftMaxFrameBytes ${maxFrameBytes}`)
      return undefined
    }

    const runPeer = (peer: Peer): Effect.Effect<void> => {
      let backoff = backoffMin
      let failing = false
      const connect: Effect.Effect<Conn> = Effect.gen(function*() {
        for (;;) {
          if (peer.conn !== undefined && !peer.conn.closed) return peer.conn
          const r = yield* Effect.either(dial(peer.id))
          if (Either.isRight(r)) {
            if (failing) yield* Effect.logInfo(`raft transport: connected to ${peer.id}`)
            failing = false
            backoff = backoffMin
            peer.conn = r.right
            return r.right
          }
          // Log the first failure of a streak at warning, the retries at debug: a down peer must not flood the log.
          const line = `raft transport: cannot reach ${peer.id}: ${r.left}; retrying in ${backoff} ms`
          yield* failing ? Effect.logDebug(line) : Effect.logWarning(line)
          failing = true
          let woken = false
          yield* Effect.async<void>((resume) => {
            const timer = setTimeout(() => {
              peer.wake = undefined
              resume(Effect.void)
            }, backoff)
            peer.wake = () => {
              clearTimeout(timer)
              peer.wake = undefined
              woken = true
              resume(Effect.void)
            }
            return Effect.sync(() => {
              clearTimeout(timer)
              peer.wake = undefined
            })
          })
          backoff = woken ? backoffMin : Math.min(backoffMax, backoff * 2)
        }
      })
      const loop = Effect.gen(function*() {
        for (;;) {
          peer.idle = true
          const batch = yield* Queue.takeBetween(peer.queue, 1, maxBatch)
          peer.idle = false
          const frames: Array<Buffer> = []
          for (const m of batch) {
            const frame = frameOf(peer.id, m)
            if (frame !== undefined) frames.push(frame)
          }
          if (frames.length === 0) continue
          const c = yield* connect
          c.socket.cork()
          let ok = true
          for (const frame of frames) ok = c.socket.write(frame)
          c.socket.uncork()
          if (!ok && !c.closed) yield* awaitDrain(c)
        }
      })
      return loop.pipe(
        Effect.ensuring(Effect.sync(() => {
          peer.idle = false
          peer.conn?.socket.destroy()
        })),
        Effect.annotateLogs("raft", self)
      )
    }

    const addPeer = (id: NodeId) =>
      Effect.gen(function*() {
        const queue = yield* Queue.sliding<Message>(peerCapacity)
        const peer: Peer = { id, queue, fiber: undefined, conn: undefined, idle: false, corked: false, wake: undefined }
        peers.set(id, peer)
        // setPeers runs uninterruptibly and a child inherits that: make the loop interruptible again.
        peer.fiber = yield* Effect.forkIn(Effect.interruptible(runPeer(peer)), scope)
      })
    const removePeer = (peer: Peer) =>
      Effect.gen(function*() {
        peers.delete(peer.id)
        if (peer.fiber !== undefined) yield* Fiber.interrupt(peer.fiber)
        yield* Queue.shutdown(peer.queue)
        for (const [socket, s] of accepted) if (s.peer === peer.id) socket.destroy()
      })
    const setPeers = (ids: ReadonlyArray<NodeId>) =>
      Effect.uninterruptible(Effect.gen(function*() {
        const next = new Set(ids.filter((id) => id !== self))
        for (const id of [...peerSet]) if (!next.has(id)) peerSet.delete(id)
        for (const peer of [...peers.values()]) if (!next.has(peer.id)) yield* removePeer(peer)
        for (const id of next) {
          peerSet.add(id)
          if (!peers.has(id)) yield* addPeer(id)
        }
      }))
    yield* setPeers(options.peers)

    return RaftTransport.of({
      self,
      send: (to, message) =>
        Effect.suspend(() => {
          const bad = misaddressed(self, to, message)
          if (bad !== undefined) return Effect.logWarning(`raft transport: dropped ${message._tag}: ${bad}`)
          const peer = peers.get(to)
          if (peer === undefined) return Effect.void
          // Fast path: connected, nothing queued or in the fiber's hands → write now (order is kept), and
          // coalesce the writes of this tick into one writev. Saves a fiber wake-up per message.
          const c = peer.conn
          if (
            peer.idle && c !== undefined && !c.closed && c.socket.writableLength < fastPathMaxBuffered &&
            Option.getOrElse(peer.queue.unsafeSize(), () => 1) === 0
          ) {
            const frame = frameOf(to, message)
            if (frame === undefined) return Effect.void
            if (!peer.corked) {
              peer.corked = true
              c.socket.cork()
              process.nextTick(() => {
                peer.corked = false
                c.socket.uncork()
              })
            }
            c.socket.write(frame)
            return Effect.void
          }
          // The fiber owns this message now (a waiting taker receives it without it ever being "in" the queue):
          // until the fiber is back in takeBetween, later sends must queue behind it to keep the order.
          peer.idle = false
          return Effect.asVoid(Queue.offer(peer.queue, message))
        }),
      inbound,
      setPeers,
      peers: Effect.sync(() => Array.from(peerSet))
    })
  })

export const layer = (options: TcpTransportOptions): Layer.Layer<RaftTransport, RaftTransportError> =>
  Layer.scoped(RaftTransport, make(options))
