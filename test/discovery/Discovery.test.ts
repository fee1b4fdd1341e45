/**
 * The discovery service over a scripted memory fleet, driven by TestClock: crawl, cluster attributes,
 * polling cadence and spreading, back-off, fast re-probe, last_checked/last_seen/last_attempted_check.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Either, Layer, TestClock } from "effect"
import { Repository } from "../../core/backend/Repository.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { makeMemory, ProbeError, type Prober } from "../../core/discovery/Prober.js"
import { CommandLog } from "../../core/ops/CommandLog.js"
import * as Model from "../../core/topology/Instance.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { fromRecord } from "../../core/topology/InstanceRecord.js"
import { addTree, config, discoveryLayer, key, replication, server, settle } from "./fixtures.js"

type Hook = (key: InstanceKey) => Effect.Effect<void, ProbeError> | undefined

/** Wraps a prober: records probe start times per key; `hook` may delay or fail a probe. */
const recording = (inner: Prober["Type"], hook: { current: Hook }) => {
  const starts = new Map<string, Array<number>>()
  const prober: Prober["Type"] = {
    ...inner,
    probe: (req) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const id = Key.format(req.key)
        starts.set(id, [...(starts.get(id) ?? []), now])
        const extra = hook.current(req.key)
        if (extra !== undefined) yield* extra
        return yield* inner.probe(req)
      })
  }
  return { prober, starts, count: (k: InstanceKey) => starts.get(Key.format(k))?.length ?? 0 }
}

const build = (c: ReturnType<typeof config>, prober: Prober["Type"]) =>
  Effect.gen(function*() {
    const ctx = yield* Layer.build(discoveryLayer(c, prober))
    yield* settle()
    return {
      discovery: Context.get(ctx, Discovery),
      repo: Context.get(ctx, Repository),
      log: Context.get(ctx, CommandLog)
    }
  })

/** Advances the test clock in small steps so that every dispatcher wake-up and probe fiber runs. */
const advance = (ms: number, step = 50) =>
  Effect.gen(function*() {
    for (let t = 0; t < ms; t += step) {
      yield* TestClock.adjust(step)
      yield* settle()
    }
  })

const stored = (repo: Repository["Type"], k: InstanceKey) =>
  Effect.map(repo.readInstance(k), (r) => (r === undefined ? undefined : Either.getOrThrow(fromRecord(r))))

describe("Discovery (memory fleet)", () => {
  it.scoped("discovering the leaf of a chain finds the whole cluster at once, with depths", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const keys = addTree(fleet, [null, 0, 1, 2])
      const { discovery, repo } = yield* build(config(), prober)
      const leaf = yield* discovery.discover(keys[3]!)
      expect(leaf.key).toEqual(keys[3])
      yield* advance(100)
      const all = yield* repo.readInstances
      expect(all.map((r) => `${r.key.hostname}:${r.key.port}`)).toEqual(keys.map(Key.format))
      for (const [i, k] of keys.entries()) {
        const inst = (yield* stored(repo, k))!
        expect(inst.clusterName).toBe("10.0.0.1:3301")
        expect(inst.replicationDepth).toBe(i)
        expect(inst.isCoMaster).toBe(false)
      }
      // One probe each to find the chain (a 2nd for the leaf once its master is known is not needed).
      expect(fleet.probes.get("10.0.0.1:3301")).toBe(1)
    }))

  it.scoped("co-masters: the smaller key names the cluster; both are co-masters", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const a = key(3301)
      const b = key(3302)
      const c = key(3303)
      fleet.set(a, { _tag: "Up", instance: server(a, { master: b, replicas: [b, c] }) })
      fleet.set(b, { _tag: "Up", instance: server(b, { master: a, replicas: [a] }) })
      fleet.set(c, { _tag: "Up", instance: server(c, { master: a }) })
      const { discovery, repo } = yield* build(config(), prober)
      yield* discovery.discover(c)
      yield* advance(100)
      const [ia, ib, ic] = [(yield* stored(repo, a))!, (yield* stored(repo, b))!, (yield* stored(repo, c))!]
      expect([ia.clusterName, ib.clusterName, ic.clusterName]).toEqual(["10.0.0.1:3301", "10.0.0.1:3301", "10.0.0.1:3301"])
      expect([ia.isCoMaster, ib.isCoMaster, ic.isCoMaster]).toEqual([true, true, false])
      expect([ia.replicationDepth, ib.replicationDepth, ic.replicationDepth]).toEqual([0, 1, 1])
    }))

  it.scoped("polls every InstancePollSeconds, spread over the interval rather than in one burst", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const keys = Array.from({ length: 40 }, (_, i) => key(4000 + i))
      for (const k of keys) fleet.set(k, { _tag: "Up", instance: server(k) })
      const rec = recording(prober, { current: () => undefined })
      yield* build(config({ DiscoverySeeds: keys.map(Key.format) }), rec.prober)
      yield* advance(60_000, 100)
      for (const k of keys) {
        const starts = rec.starts.get(Key.format(k))!
        // 60 s at 5 s: 12 or 13 probes (the first at start-up), never two within 4.5 s.
        expect(starts.length).toBeGreaterThanOrEqual(12)
        expect(starts.length).toBeLessThanOrEqual(14)
        for (let i = 1; i < starts.length; i++) {
          expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(4500)
          expect(starts[i]! - starts[i - 1]!).toBeLessThanOrEqual(5600)
        }
      }
      // In the last interval, probes are spread: no 1 s window holds more than half of them
      // (at start-up all 40 were in the same instant).
      const last = [...rec.starts.values()].flatMap((s) => s.filter((t) => t >= 55_000 && t < 60_000))
      const buckets = [0, 0, 0, 0, 0]
      for (const t of last) buckets[Math.floor((t - 55_000) / 1000)]!++
      expect(last.length).toBeGreaterThanOrEqual(39)
      expect(Math.max(...buckets)).toBeLessThanOrEqual(20)
    }))

  it.scoped("masters with replicas are probed every MasterPollMillis while the node keeps up, replicas every InstancePollSeconds", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const [m, r1, r2] = addTree(fleet, [null, 0, 0], 5300)
      const rec = recording(prober, { current: () => undefined })
      const { discovery } = yield* build(config(), rec.prober)
      yield* discovery.discover(m!)
      yield* advance(30_000, 50)
      const gaps = (k: InstanceKey) => {
        const starts = rec.starts.get(Key.format(k))!.filter((t) => t >= 10_000)
        return starts.slice(1).map((t, i) => t - starts[i]!)
      }
      expect(Math.max(...gaps(m!))).toBeLessThanOrEqual(1_100)
      expect(gaps(m!).length).toBeGreaterThanOrEqual(17)
      for (const r of [r1!, r2!]) for (const g of gaps(r)) expect(g).toBeGreaterThanOrEqual(4_500)
    }))

  it.scoped("a node that cannot keep up gives up the masters' extra rounds first: every instance stays fresh", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      // 10 clusters of a master and a replica; one probe at a time, 200 ms each: 25 probes per 5 s. Masters every
      // second would ask for 60 (10 × 5 + 10); at InstancePollSeconds for everyone, 20.
      const clusters = Array.from({ length: 10 }, (_, c) => addTree(fleet, [null, 0], 5100 + 10 * c))
      const rec = recording(prober, { current: () => Effect.sleep("200 millis") })
      yield* build(config({ DiscoveryMaxConcurrency: 1, DiscoverySeeds: clusters.map((c) => Key.format(c[0]!)) }), rec.prober)
      yield* advance(60_000, 50)
      const gaps = (k: InstanceKey) => {
        const starts = rec.starts.get(Key.format(k))!.filter((t) => t >= 30_000)
        return starts.slice(1).map((t, i) => t - starts[i]!)
      }
      for (const [m, r] of clusters) {
        // Fresh: nobody waits longer than about one InstancePollSeconds (with the masters' rounds taken as regular
        // slots, the replicas waited up to 7.4 s here).
        for (const k of [m!, r!]) {
          expect(gaps(k).length).toBeGreaterThanOrEqual(4)
          expect(Math.max(...gaps(k))).toBeLessThanOrEqual(5_600)
        }
      }
    }))

  it.scoped("a failed probe sets last_checked only; the instance moves to back-off and returns when healthy", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const [m, r] = addTree(fleet, [null, 0])
      const { discovery, repo } = yield* build(config(), prober)
      yield* discovery.discover(m!)
      yield* advance(100)
      const before = (yield* stored(repo, r!))!
      expect(before.lastCheckValid).toBe(true)
      fleet.down(r!)
      yield* advance(5_100)
      const after = (yield* stored(repo, r!))!
      expect(after.lastCheckValid).toBe(false)
      expect(after.lastCheckedAt!).toBeGreaterThan(after.lastSeenAt!)
      expect(after.lastSeenAt).toBe(before.lastSeenAt)
      const status = yield* discovery.status
      expect(status.backoff).toBe(1)
      fleet.set(r!, { _tag: "Up", instance: server(r!, { master: m! }) })
      yield* advance(20_000, 100)
      expect((yield* stored(repo, r!))!.lastCheckValid).toBe(true)
      expect((yield* discovery.status).backoff).toBe(0)
    }))

  it.scoped("hung instances (back-off queue) never delay healthy ones; last_attempted_check marks a hung probe after 1 s", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const healthy = Array.from({ length: 6 }, (_, i) => key(5000 + i))
      const hung = Array.from({ length: 4 }, (_, i) => key(6000 + i))
      for (const k of [...healthy, ...hung]) fleet.set(k, { _tag: "Up", instance: server(k) })
      const hook: { current: Hook } = { current: () => undefined }
      const rec = recording(prober, hook)
      const { repo } = yield* build(
        config({ DiscoveryMaxConcurrency: 2, DiscoverySeeds: [...healthy, ...hung].map(Key.format) }),
        rec.prober
      )
      yield* advance(200)
      // From now on the "hung" servers take 10 s and then fail (a SIGSTOPped mysqld until the read timeout).
      const hungIds = new Set(hung.map(Key.format))
      hook.current = (k) =>
        hungIds.has(Key.format(k))
          ? Effect.zipRight(Effect.sleep("10 seconds"), Effect.fail(new ProbeError({ key: k, kind: "timeout", message: "hung", partialSuccess: false })))
          : undefined
      const before = new Map(healthy.map((k) => [Key.format(k), rec.count(k)]))
      const hungRowBefore = (yield* stored(repo, hung[0]!))!
      yield* advance(6_500, 100)
      // The hung probe started at ~5 s is visible through last_attempted_check ~1 s later, still valid otherwise.
      const hungRow = (yield* stored(repo, hung[0]!))!
      expect(hungRow.lastAttemptedCheckAt!).toBeGreaterThan(hungRowBefore.lastAttemptedCheckAt!)
      expect(hungRow.lastCheckedAt).toBe(hungRowBefore.lastCheckedAt)
      // Still hanging 3 s later: marked again every second, so the row leaves the valid window without
      // waiting for the probe's read timeout.
      yield* advance(3_000, 100)
      const stillHung = (yield* stored(repo, hung[0]!))!
      expect(stillHung.lastAttemptedCheckAt!).toBeGreaterThanOrEqual(hungRow.lastAttemptedCheckAt! + 2_000)
      expect(stillHung.lastCheckedAt).toBe(hungRowBefore.lastCheckedAt)
      yield* advance(37_000, 100)
      for (const k of healthy) {
        // 46 s at 5 s per probe: 9 probes whatever the hung servers do (only 2 healthy permits).
        expect(rec.count(k) - before.get(Key.format(k))!).toBeGreaterThanOrEqual(8)
      }
      for (const k of hung) expect((yield* stored(repo, k))!.lastCheckValid).toBe(false)
    }))

  it.scoped("fast detection: a master that stops answering gets its replicas re-probed at once", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const [m, r1, r2] = addTree(fleet, [null, 0, 0])
      const rec = recording(prober, { current: () => undefined })
      const { discovery } = yield* build(config(), rec.prober)
      yield* discovery.discover(m!)
      yield* advance(20_000, 100)
      fleet.down(m!)
      fleet.update(r1!, (i) => ({ ...i, replication: replication(m!, "Connecting") }))
      fleet.update(r2!, (i) => ({ ...i, replication: replication(m!, "Connecting") }))
      const mBefore = rec.count(m!)
      yield* advance(5_500, 50)
      const failedAt = rec.starts.get(Key.format(m!))![mBefore]!
      for (const r of [r1!, r2!]) {
        const after = rec.starts.get(Key.format(r))!.filter((t) => t >= failedAt)
        // re-probed in the same instant as the master's failed probe, not at its own slot
        expect(after[0]! - failedAt).toBeLessThanOrEqual(50)
      }
    }))

  it.scoped("a hung master gets its replicas re-probed every 500 ms while its probe hangs", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const [m, r1, r2] = addTree(fleet, [null, 0, 0])
      const hook: { current: Hook } = { current: () => undefined }
      const rec = recording(prober, hook)
      const { discovery } = yield* build(config(), rec.prober)
      yield* discovery.discover(m!)
      yield* advance(20_000, 100)
      // From now on the master hangs (SIGSTOP): its probe neither answers nor fails for 10 s.
      const mId = Key.format(m!)
      hook.current = (k) =>
        Key.format(k) === mId
          ? Effect.zipRight(Effect.sleep("10 seconds"), Effect.fail(new ProbeError({ key: k, kind: "timeout", message: "hung", partialSuccess: false })))
          : undefined
      const mBefore = rec.count(m!)
      yield* advance(6_000, 50)
      const hungAt = rec.starts.get(mId)![mBefore]!
      for (const r of [r1!, r2!]) {
        const during = rec.starts.get(Key.format(r))!.filter((t) => t > hungAt + 1_000 && t <= hungAt + 5_000)
        // 4 s of a hang past the first second: about 8 probes each, against less than one on the 5 s slot.
        expect(during.length).toBeGreaterThanOrEqual(6)
        for (let i = 1; i < during.length; i++) expect(during[i]! - during[i - 1]!).toBeLessThanOrEqual(600)
      }
    }))

  it.scoped("a replica whose IO thread stops gets its master and siblings re-probed at once", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const [m, r1, r2] = addTree(fleet, [null, 0, 0])
      const rec = recording(prober, { current: () => undefined })
      const { discovery } = yield* build(config(), rec.prober)
      yield* discovery.discover(m!)
      yield* advance(20_000, 100)
      fleet.update(r1!, (i) => ({ ...i, replication: replication(m!, "Connecting") }))
      const before = rec.count(r1!)
      yield* advance(5_500, 50)
      const seenAt = rec.starts.get(Key.format(r1!))![before]!
      for (const k of [m!, r2!]) {
        const after = rec.starts.get(Key.format(k))!.filter((t) => t >= seenAt)
        expect(after[0]! - seenAt).toBeLessThanOrEqual(50)
      }
    }))

  it.scoped("forget stops polling; crawling does not bring it back for 3 intervals; discover does", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const [m, r] = addTree(fleet, [null, 0])
      const rec = recording(prober, { current: () => undefined })
      const { discovery, repo, log } = yield* build(config(), rec.prober)
      yield* discovery.discover(m!)
      yield* advance(100)
      yield* log.propose({ _tag: "forget", key: { hostname: r!.hostname, port: r!.port } })
      yield* settle()
      expect(yield* repo.readInstance(r!)).toBeUndefined()
      const count = rec.count(r!)
      yield* advance(10_000, 100)
      expect(rec.count(r!)).toBe(count)
      expect(yield* repo.readInstance(r!)).toBeUndefined()
      const back = yield* discovery.discover(r!)
      expect(back.clusterName).toBe(Key.format(m!))
      expect(Model.masterKey(back)).toEqual(m)
      expect(yield* repo.readInstance(r!)).toBeDefined()
    }))

  it.scoped("a replicated discover op probes the instance (reaction) and crawls from it", () =>
    Effect.gen(function*() {
      const { fleet, prober } = makeMemory()
      const keys = addTree(fleet, [null, 0, 0])
      const { repo, log } = yield* build(config(), prober)
      yield* log.propose({ _tag: "discover", key: { hostname: keys[2]!.hostname, port: keys[2]!.port } })
      yield* advance(200)
      expect((yield* repo.readInstances).length).toBe(3)
    }))

  it.scoped("an unknown address is dropped after a few failed probes", () =>
    Effect.gen(function*() {
      const { prober } = makeMemory()
      const { discovery } = yield* build(config(), prober)
      const r = yield* Effect.either(discovery.discover(key(9999)))
      expect(Either.isLeft(r) && r.left._tag === "ProbeError" && r.left.kind).toBe("unreachable")
      yield* advance(40_000, 200)
      expect((yield* discovery.status).known).toBe(0)
    }))
})
