/**
 * The TCP RaftTransport on loopback: delivery and order, the handshake (mutual HMAC, timeouts, refusal of
 * unknown peers), hostile frames (garbage, oversized, forged sender) that close one connection while the
 * listener keeps serving, reconnection after a restart, and a clean shutdown that leaks no handle.
 * Runs on the live clock (`it.live`): backoff and timeouts are real.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Exit, Logger, Option, Queue, Scope } from "effect"
import * as net from "node:net"
import * as TcpTransport from "../../adapters/raft/TcpTransport.js"
import { FrameReader, jsonFrame } from "../../adapters/raft/Frame.js"
import * as Handshake from "../../adapters/raft/Handshake.js"
import type { Message } from "../../core/raft/Message.js"
import type { RaftTransport } from "../../core/raft/ports/RaftTransport.js"
import { freePort } from "../support/ports.js"

const host = "127.0.0.1"
const id = (port: number) => `${host}:${port}`
const secret = "correct horse battery staple"
const hb = (from: string, to: string, ctx = 0): Message => ({ _tag: "Heartbeat", term: 1, from, to, commit: 0, ctx })
const ports = (k: number) => Effect.promise(() => Promise.all(Array.from({ length: k }, freePort)))

const lines: Array<string> = []
const captureLogs = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push(String(message))))
const logged = (re: RegExp) => lines.some((l) => re.test(l))

const start = (port: number, peers: ReadonlyArray<number>, options: Partial<TcpTransport.TcpTransportOptions> = {}) =>
  TcpTransport.make({
    self: id(port),
    bind: { host, port },
    peers: peers.map(id),
    secret,
    handshakeTimeoutMillis: 400,
    backoffMinMillis: 20,
    backoffMaxMillis: 200,
    ...options
  })

type T = RaftTransport["Type"]
const take = (t: T, millis = 3000) => Queue.take(t.inbound).pipe(Effect.timeout(millis))
const nothingWithin = (t: T, millis: number) =>
  Queue.take(t.inbound).pipe(Effect.timeout(millis), Effect.either, Effect.map(Either.isLeft))

/** Sends until one message arrives (a restarting peer loses what was sent while it was down). */
const sendUntilReceived = (from: T, to: T) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 100; attempt++) {
      yield* from.send(to.self, hb(from.self, to.self, attempt))
      const got = yield* Queue.take(to.inbound).pipe(Effect.timeout(100), Effect.option)
      if (Option.isSome(got)) return got.value
    }
    return yield* Effect.die("never delivered")
  })

/** A hand-written client, to misbehave in ways the transport never would. */
const raw = (port: number, opts: { from: string; to: string; secret?: string; authenticate?: boolean }) =>
  Effect.async<{ socket: net.Socket; closed: Promise<void>; authenticated: boolean }>((resume) => {
    const socket = net.connect({ host, port })
    const closed = new Promise<void>((r) => socket.on("close", () => r()))
    socket.on("error", () => {})
    if (opts.authenticate === false) {
      socket.on("connect", () => resume(Effect.succeed({ socket, closed, authenticated: false })))
      return
    }
    const reader = new FrameReader(4096)
    const nc = Handshake.nonce()
    socket.on("connect", () =>
      socket.write(jsonFrame({ t: "hello", v: 1, from: opts.from, to: opts.to, auth: "hmac-sha256", nonce: nc })))
    let done = false
    const finish = (authenticated: boolean) => {
      if (!done) resume(Effect.succeed({ socket, closed, authenticated }))
      done = true
    }
    closed.then(() => finish(false))
    socket.on("data", (chunk: Buffer) => {
      const frames = reader.push(chunk)
      if (frames.length === 0 || done) return
      const c = JSON.parse(frames[0]!.toString()) as { nonce: string }
      const mac = Handshake.mac(opts.secret ?? secret, "client", opts.from, opts.to, nc, c.nonce)
      socket.write(jsonFrame({ t: "auth", mac }))
      setTimeout(() => finish(!socket.destroyed), 50)
    })
  })
const closedWithin = (c: { closed: Promise<void> }, millis: number) =>
  Effect.promise(() =>
    Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), millis))])
  )

const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length

describe("TCP raft transport", () => {
  it.live("two nodes exchange messages in both directions, in order", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      const a = yield* start(pa!, [pa!, pb!])
      const b = yield* start(pb!, [pa!, pb!])
      for (let k = 0; k < 500; k++) yield* a.send(b.self, hb(a.self, b.self, k))
      const got: Array<number> = []
      while (got.length < 500) {
        const m = yield* take(b)
        assert.strictEqual(m.from, a.self)
        if (m.message._tag === "Heartbeat") got.push(m.message.ctx)
      }
      assert.deepStrictEqual(got, Array.from({ length: 500 }, (_, k) => k))
      yield* b.send(a.self, { _tag: "HeartbeatResp", term: 1, from: b.self, to: a.self, ctx: 7 })
      assert.deepStrictEqual((yield* take(a)).message, { _tag: "HeartbeatResp", term: 1, from: b.self, to: a.self, ctx: 7 })
      const entries = Array.from({ length: 64 }, (_, k) => ({ term: 1, index: k + 1, type: "normal" as const, data: "x".repeat(200) }))
      const ae: Message = { _tag: "AppendEntries", term: 1, from: a.self, to: b.self, prevIndex: 0, prevTerm: 0, entries, commit: 0, ctx: 1 }
      yield* a.send(b.self, ae)
      assert.deepStrictEqual((yield* take(b)).message, ae)
    }).pipe(Effect.scoped))

  it.live("three nodes: each reaches the others; messages to non-peers and misaddressed ones are dropped", () =>
    Effect.gen(function*() {
      const ps = yield* ports(3)
      const ts = yield* Effect.all(ps.map((p) => start(p, ps)))
      for (const from of ts) for (const to of ts) if (from !== to) yield* from.send(to.self, hb(from.self, to.self))
      for (const t of ts) {
        const senders = [(yield* take(t)).from, (yield* take(t)).from].sort()
        assert.deepStrictEqual(senders, ts.filter((o) => o !== t).map((o) => o.self).sort())
      }
      yield* ts[0]!.send("127.0.0.1:1", hb(ts[0]!.self, "127.0.0.1:1"))
      yield* ts[0]!.send(ts[1]!.self, hb(ts[2]!.self, ts[1]!.self))
      assert.isTrue(yield* nothingWithin(ts[1]!, 300))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("wrong secret: nothing is delivered and the dialer drops the connection", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      const a = yield* start(pa!, [pa!, pb!], { secret: "wrong" })
      const b = yield* start(pb!, [pa!, pb!])
      for (let k = 0; k < 5; k++) yield* a.send(b.self, hb(a.self, b.self))
      assert.isTrue(yield* nothingWithin(b, 600))
      assert.isTrue(logged(/cannot reach .*the listener failed authentication/))
      // A client that lies about the secret is dropped by the listener.
      const c = yield* raw(pb!, { from: a.self, to: b.self, secret: "guess" })
      assert.isTrue(yield* closedWithin(c, 1000))
      assert.isTrue(logged(/authentication of .* failed/))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("a connection that skips or stalls the handshake is dropped", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      const b = yield* start(pb!, [pa!, pb!])
      const skip = yield* raw(pb!, { from: id(pa!), to: b.self, authenticate: false })
      skip.socket.write(jsonFrame(hb(id(pa!), b.self)))
      assert.isTrue(yield* closedWithin(skip, 1000))
      assert.isTrue(logged(/expected a hello/))
      const silent = yield* raw(pb!, { from: id(pa!), to: b.self, authenticate: false })
      assert.isTrue(yield* closedWithin(silent, 2000))
      assert.isTrue(logged(/handshake timed out/))
      assert.isTrue(yield* nothingWithin(b, 100))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("a node outside the peer set is refused, by hello and by forged sender", () =>
    Effect.gen(function*() {
      const [pa, pb, pc] = yield* ports(3)
      const b = yield* start(pb!, [pa!, pb!])
      const c = yield* start(pc!, [pb!, pc!])
      yield* c.send(b.self, hb(c.self, b.self))
      assert.isTrue(yield* nothingWithin(b, 500))
      assert.isTrue(logged(new RegExp(`refused: ${id(pc!)} is not in the peer set`)))
      // Authenticated as a, then claims to be c.
      const forger = yield* raw(pb!, { from: id(pa!), to: b.self })
      assert.isTrue(forger.authenticated)
      forger.socket.write(jsonFrame(hb(id(pc!), b.self)))
      assert.isTrue(yield* closedWithin(forger, 1000))
      assert.isTrue(logged(/message claims to be from/))
      assert.isTrue(yield* nothingWithin(b, 100))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("a dialer outside the configuration is authenticated, then told why it is refused; both sides see the declarations", () =>
    Effect.gen(function*() {
      const [pa, pb, pc] = yield* ports(3)
      const declared: Array<{ from: string; raftNodes: ReadonlyArray<string>; intent: boolean; member: boolean }> = []
      const refusals: Array<{ by: string; reason: string; voters: ReadonlyArray<string> }> = []
      const b = yield* start(pb!, [pa!, pb!], {
        declaration: () => ({ raftNodes: [id(pa!), id(pb!)], intent: false }),
        onDeclaration: (from, d, member) => void declared.push({ from, ...d, member })
      })
      const a = yield* start(pa!, [pa!, pb!], { declaration: () => ({ raftNodes: [id(pa!), id(pb!)], intent: true }) })
      const c = yield* start(pc!, [pb!, pc!], {
        declaration: () => ({ raftNodes: [id(pb!), id(pc!)], intent: false }),
        onRefused: (by, reason, voters) => void refusals.push({ by, reason, voters })
      })
      // A member is welcomed: its messages flow, and its declaration is recorded as a member's.
      yield* sendUntilReceived(a, b)
      assert.deepStrictEqual(declared[0], { from: a.self, raftNodes: [id(pa!), id(pb!)], intent: true, member: true })
      // An outsider with the secret learns why, and with which configuration, it is refused.
      yield* c.send(b.self, hb(c.self, b.self))
      for (let i = 0; i < 50 && refusals.length === 0; i++) yield* Effect.sleep(20)
      assert.deepStrictEqual(refusals[0], { by: b.self, reason: `${c.self} is not in the configuration of ${b.self}`, voters: [id(pa!), id(pb!)].sort() })
      assert.isTrue(logged(new RegExp(`cannot reach ${b.self}: refused by ${b.self}`)))
      assert.isTrue(logged(new RegExp(`refused: ${id(pc!)} is not in the peer set \\(configuration`)))
      assert.deepStrictEqual(declared.find((d) => d.from === c.self), { from: c.self, raftNodes: [id(pb!), id(pc!)], intent: false, member: false })
      assert.isTrue(yield* nothingWithin(b, 300))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("a dialler waiting out its backoff to a peer redials as soon as that peer connects to it", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      // A minute of backoff: without the wake-up, nothing could arrive within the 10 s below.
      const a = yield* start(pa!, [pa!, pb!], { backoffMinMillis: 60_000, backoffMaxMillis: 60_000 })
      const b = yield* start(pb!, [pb!])
      yield* a.send(b.self, hb(a.self, b.self, 1))
      for (let i = 0; i < 100 && !logged(new RegExp(`cannot reach ${b.self}: refused by`)); i++) yield* Effect.sleep(20)
      assert.isTrue(logged(new RegExp(`cannot reach ${b.self}: refused by`)))
      // b learns of a (a configuration change) and talks to it: a's dialler stops waiting and is accepted.
      yield* b.setPeers([a.self, b.self])
      yield* b.send(a.self, hb(b.self, a.self, 2))
      assert.strictEqual((yield* take(a)).from, b.self)
      const got = yield* take(b, 10_000)
      assert.deepStrictEqual([got.from, (got.message as { ctx: number }).ctx], [a.self, 1])
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("an older dialer (no verdicts) outside the peer set is dropped at its hello, before any challenge", () =>
    Effect.gen(function*() {
      const [pa, pb, pc] = yield* ports(3)
      const declared: Array<string> = []
      yield* start(pb!, [pa!, pb!], { onDeclaration: (from) => void declared.push(from) })
      const old = yield* raw(pb!, { from: id(pc!), to: id(pb!) })
      assert.isFalse(old.authenticated)
      assert.isTrue(yield* closedWithin(old, 1000))
      assert.deepStrictEqual(declared, [])
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("garbage and oversized frames close that connection; the listener keeps serving others", () =>
    Effect.gen(function*() {
      const [pa, pb, pc] = yield* ports(3)
      const b = yield* start(pb!, [pa!, pb!, pc!], { maxFrameBytes: 2048 })
      const a = yield* start(pa!, [pa!, pb!, pc!])
      const garbage = yield* raw(pb!, { from: id(pc!), to: b.self })
      assert.isTrue(garbage.authenticated)
      const junk = Buffer.from("{not json")
      const frame = Buffer.alloc(4 + junk.length)
      frame.writeUInt32BE(junk.length, 0)
      junk.copy(frame, 4)
      garbage.socket.write(frame)
      assert.isTrue(yield* closedWithin(garbage, 1000))
      assert.isTrue(logged(/frame is not JSON/))
      const invalid = yield* raw(pb!, { from: id(pc!), to: b.self })
      invalid.socket.write(jsonFrame({ _tag: "Heartbeat", term: -1, from: id(pc!), to: b.self, commit: 0, ctx: 0 }))
      assert.isTrue(yield* closedWithin(invalid, 1000))
      assert.isTrue(logged(/invalid message/))
      const big = yield* raw(pb!, { from: id(pc!), to: b.self })
      const header = Buffer.alloc(4)
      header.writeUInt32BE(1 << 30, 0)
      big.socket.write(header)
      assert.isTrue(yield* closedWithin(big, 1000))
      assert.isTrue(logged(/exceeds the limit of 2048/))
      // Others still get through, and an over-limit message is dropped by the sender, not sent.
      yield* a.send(b.self, hb(a.self, b.self, 42))
      assert.strictEqual(((yield* take(b)).message as { ctx: number }).ctx, 42)
      const huge: Message = { _tag: "InstallSnapshot", term: 1, from: a.self, to: b.self, snapshot: { index: 1, term: 1, conf: { voters: [] } }, offset: 0, data: "x".repeat(4096), done: true, ctx: 0 }
      const a2 = yield* start(yield* Effect.promise(freePort), [pb!], { maxFrameBytes: 2048 })
      yield* a2.send(b.self, { ...huge, from: a2.self })
      yield* a.send(b.self, hb(a.self, b.self, 43))
      assert.strictEqual(((yield* take(b)).message as { ctx: number }).ctx, 43)
      assert.isTrue(logged(/exceed RaftMaxFrameBytes/))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("a peer that restarts is reached again (reconnect with backoff)", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      const a = yield* start(pa!, [pa!, pb!])
      const scope1 = yield* Scope.make()
      const b1 = yield* start(pb!, [pa!, pb!]).pipe(Scope.extend(scope1))
      yield* sendUntilReceived(a, b1)
      yield* Scope.close(scope1, Exit.void)
      for (let k = 0; k < 10; k++) yield* a.send(id(pb!), hb(a.self, id(pb!)))
      yield* Effect.sleep(300)
      const b2 = yield* start(pb!, [pa!, pb!])
      const got = yield* sendUntilReceived(a, b2)
      assert.strictEqual(got.from, a.self)
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("setPeers: removed peers are cut off, added ones reachable", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      const a = yield* start(pa!, [pa!])
      const b = yield* start(pb!, [pb!])
      yield* a.send(b.self, hb(a.self, b.self))
      assert.isTrue(yield* nothingWithin(b, 200))
      yield* a.setPeers([a.self, b.self])
      yield* b.setPeers([a.self, b.self])
      assert.deepStrictEqual(yield* a.peers, [b.self])
      yield* sendUntilReceived(a, b)
      yield* b.setPeers([b.self])
      yield* a.send(b.self, hb(a.self, b.self))
      assert.isTrue(yield* nothingWithin(b, 300))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it.live("closing the scope closes the listener and every socket", () =>
    Effect.gen(function*() {
      yield* Effect.sleep(100)
      const before = tcpHandles()
      const [pa, pb] = yield* ports(2)
      const scope = yield* Scope.make()
      const [a, b] = yield* Effect.all([start(pa!, [pa!, pb!]), start(pb!, [pa!, pb!])]).pipe(Scope.extend(scope))
      yield* sendUntilReceived(a, b)
      yield* sendUntilReceived(b, a)
      assert.isAbove(tcpHandles(), before)
      yield* Scope.close(scope, Exit.void)
      yield* Effect.sleep(50)
      assert.isAtMost(tcpHandles(), before)
      // The ports are free again.
      const again = yield* start(pa!, [pa!]).pipe(Effect.scoped, Effect.exit)
      assert.isTrue(Exit.isSuccess(again))
      assert.isTrue(Chunk.isEmpty(yield* Queue.takeAll(a.inbound).pipe(Effect.catchAllCause(() => Effect.succeed(Chunk.empty())))))
    }))

  it.live("an empty secret works when both sides have none, with a start-up warning", () =>
    Effect.gen(function*() {
      const [pa, pb] = yield* ports(2)
      const a = yield* start(pa!, [pa!, pb!], { secret: "" })
      const b = yield* start(pb!, [pa!, pb!], { secret: "" })
      yield* sendUntilReceived(a, b)
      assert.isTrue(logged(/NOT authenticated/))
      // A node with a secret refuses a node without.
      const [pc] = yield* ports(1)
      const c = yield* start(pc!, [pa!, pc!])
      yield* a.setPeers([a.self, b.self, c.self])
      yield* a.send(c.self, hb(a.self, c.self))
      assert.isTrue(yield* nothingWithin(c, 400))
      assert.isTrue(logged(/offers authentication "none"/))
    }).pipe(Effect.provide(captureLogs), Effect.scoped))

  it("parses node addresses", () => {
    assert.deepStrictEqual(TcpTransport.parseAddress("10.0.0.1:10008"), { host: "10.0.0.1", port: 10008 })
    assert.deepStrictEqual(TcpTransport.parseAddress("[::1]:10008"), { host: "::1", port: 10008 })
    assert.deepStrictEqual(TcpTransport.parseAddress("db-orc-1.example:7"), { host: "db-orc-1.example", port: 7 })
    assert.isUndefined(TcpTransport.parseAddress("nohost"))
    assert.isUndefined(TcpTransport.parseAddress(":10008"))
  })
})


