/** The in-memory RaftTransport and its network's fault hooks (core/raft/ports/RaftTransport.ts). */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue } from "effect"
import type { Message } from "../../core/raft/Message.js"
import * as Transport from "../../core/raft/ports/RaftTransport.js"

const hb = (from: string, to: string, ctx = 0): Message => ({ _tag: "Heartbeat", term: 1, from, to, commit: 0, ctx })
const ids = ["a", "b", "c"]

/** Three transports on one network; each node gets its own scope via Layer.build. */
const cluster = Effect.gen(function*() {
  const network = yield* Transport.MemoryNetwork
  const nodes = yield* Effect.all(ids.map((id) =>
    Layer.build(Transport.layerMemory(id, { peers: ids })).pipe(
      Effect.map((ctx) => Context.get(ctx, Transport.RaftTransport))
    )
  ))
  return { network, a: nodes[0]!, b: nodes[1]!, c: nodes[2]! }
})
const drain = (t: Transport.RaftTransportShape) => Effect.map(Queue.takeAll(t.inbound), (c) => Array.from(c))

describe("memory transport", () => {
  it.scoped("delivers in order with the sender id, drops misaddressed messages and non-peers", () =>
    Effect.gen(function*() {
      const { a, b, c } = yield* cluster
      for (let k = 0; k < 3; k++) yield* a.send("b", hb("a", "b", k))
      yield* a.send("b", hb("c", "b"))
      yield* a.send("z", hb("a", "z"))
      const got = yield* drain(b)
      assert.deepStrictEqual(got, [0, 1, 2].map((k) => ({ from: "a", message: hb("a", "b", k) })))
      yield* c.setPeers(["c"])
      yield* a.send("c", hb("a", "c"))
      assert.deepStrictEqual(yield* drain(c), [])
    }).pipe(Effect.provide(Transport.layerMemoryNetwork)))

  it.scoped("partition, one-way drop, isolate, filter and heal", () =>
    Effect.gen(function*() {
      const { network, a, b, c } = yield* cluster
      yield* network.partition("a", "b")
      yield* a.send("b", hb("a", "b"))
      yield* b.send("a", hb("b", "a"))
      yield* a.send("c", hb("a", "c"))
      assert.strictEqual((yield* drain(a)).length + (yield* drain(b)).length, 0)
      assert.strictEqual((yield* drain(c)).length, 1)
      yield* network.heal("a", "b")
      yield* network.dropOneWay("a", "b")
      yield* a.send("b", hb("a", "b"))
      yield* b.send("a", hb("b", "a"))
      assert.deepStrictEqual([(yield* drain(a)).length, (yield* drain(b)).length], [1, 0])
      yield* network.healAll
      yield* network.isolate("c")
      yield* a.send("c", hb("a", "c"))
      yield* c.send("b", hb("c", "b"))
      assert.deepStrictEqual([(yield* drain(b)).length, (yield* drain(c)).length], [0, 0])
      yield* network.healAll
      yield* network.setFilter((_from, _to, m) => (m._tag === "Heartbeat" && m.ctx % 2 === 1 ? "drop" : "deliver"))
      for (let k = 0; k < 4; k++) yield* a.send("b", hb("a", "b", k))
      assert.deepStrictEqual((yield* drain(b)).map((m) => (m.message as { ctx: number }).ctx), [0, 2])
      const stats = yield* network.stats
      assert.deepStrictEqual(stats, { delivered: 4, dropped: 7 })
    }).pipe(Effect.provide(Transport.layerMemoryNetwork)))

  it.effect("a node leaves the network when its scope closes", () =>
    Effect.gen(function*() {
      const network = yield* Transport.MemoryNetwork
      yield* Effect.scoped(Layer.build(Transport.layerMemory("a")))
      assert.deepStrictEqual(yield* network.nodes, [])
    }).pipe(Effect.provide(Transport.layerMemoryNetwork)))
})
