/**
 * `npm run bench -- gc-promotion [--seconds 3]`: what V8's young-generation GC (the scavenger) promotes for a
 * few allocation patterns, each in its own process under `--trace-gc-nvp`. It reproduces the table in
 * docs/benchmarks.md ("Why the scavenges promote") that service/GcTuning.ts and core/raft/runtime/ChurnTable.ts
 * rest on, so that a Node or Effect upgrade can be checked against it.
 *
 * Every case creates only short-lived objects: whatever is promoted is kept by the runtime, not by the case.
 * Reported per case: operations per second, bytes promoted per scavenge and mean scavenge pause (the last 20
 * scavenges of the run).
 */
import { spawnSync } from "node:child_process"
import { Deferred, Effect, Fiber, FiberId, Queue } from "effect"
import { applyGcTuning } from "../service/GcTuning.js"

const args = process.argv.slice(2).filter((a) => a !== "--")
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const seconds = Number(option("seconds") ?? 3)

/** Runs `step` (one operation, returns nothing kept) in slices of `n` until the deadline; returns operations. */
const loop = (step: (i: number) => void, n = 200): Promise<number> =>
  new Promise((resolve) => {
    const deadline = Date.now() + seconds * 1000
    let ops = 0
    const slice = () => {
      for (let i = 0; i < n; i++) step(ops++)
      if (Date.now() < deadline) setImmediate(slice)
      else resolve(ops)
    }
    slice()
  })

const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

interface ChurnedTable {
  readonly add: (k: number, v: object) => void
  readonly remove: (k: number) => void
}

/**
 * 64 live entries, one added and one deleted per step. `old`: the table is first made old (two full GCs);
 * otherwise its rebuilds come often enough that it never is.
 */
const churn = (table: ChurnedTable, old: boolean) => {
  if (old) {
    for (let k = -10; k < 0; k++) table.add(k, { k })
    gc()
    gc()
  }
  return loop((i) => {
    table.add(i, { payload: [i, i + 1, i + 2] })
    if (i >= 64) table.remove(i - 64)
  })
}

const mapTable = (): ChurnedTable => {
  const m = new Map<number, object>()
  return { add: (k, v) => void m.set(k, v), remove: (k) => void m.delete(k) }
}

const setTable = (): ChurnedTable => {
  const s = new Set<object>()
  const live: Array<object> = []
  return {
    add: (_k, v) => {
      s.add(v)
      live.push(v)
    },
    remove: () => void s.delete(live.shift()!)
  }
}

const dictionaryTable = (): ChurnedTable => {
  const d = Object.create(null) as Record<number, object>
  return { add: (k, v) => void (d[k] = v), remove: (k) => void delete d[k] }
}

const source = { a: 1, b: 2, c: 3 }
let sink: unknown

const cases: Record<string, { readonly about: string; readonly run: () => Promise<number> }> = {
  "plain-objects": { about: "short-lived plain objects", run: () => loop((i) => void (sink = { a: { b: i } })) },
  "map-churn-young": { about: "Map, add/delete churn, table still young", run: () => churn(mapTable(), false) },
  "map-churn-old": { about: "Map, add/delete churn, table old", run: () => churn(mapTable(), true) },
  "set-churn-old": { about: "Set, add/delete churn, table old", run: () => churn(setTable(), true) },
  "dictionary-churn-old": { about: "dictionary object, add/delete churn, old", run: () => churn(dictionaryTable(), true) },
  "spread-new-key": { about: "{ ...src, newKey }", run: () => loop((i) => void (sink = { ...source, z: i })) },
  "spread-existing-key": { about: "{ ...src, existingKey }", run: () => loop((i) => void (sink = { ...source, a: i })) },
  "effect-deferred": {
    about: "Effect Deferred.unsafeMake",
    run: () => loop(() => void (sink = Deferred.unsafeMake<number>(FiberId.none)))
  },
  "effect-root-fibers": {
    about: "Effect root fiber per request, resumed later",
    run: () => rootFibers()
  },
  "effect-root-fibers-tuned": {
    about: "the same, after applyGcTuning()",
    run: () => {
      applyGcTuning()
      return rootFibers()
    }
  },
  "effect-queue-take": { about: "Effect fiber looping on Queue.take", run: () => queueTake() },
  "effect-queue-take-tuned": {
    about: "the same, after applyGcTuning()",
    run: () => {
      applyGcTuning()
      return queueTake()
    }
  }
}

/** One root fiber at a time, each suspended until the next setImmediate resumes it. */
const rootFibers = () =>
  new Promise<number>((resolve) => {
    const deadline = Date.now() + seconds * 1000
    let ops = 0
    let pending: ((e: Effect.Effect<void>) => void) | undefined
    const next = (): void => {
      if (Date.now() >= deadline) return resolve(ops)
      Effect.runCallback(Effect.async<void>((resume) => void (pending = resume)), {
        onExit: () => {
          ops++
          next()
        }
      })
    }
    const tick = () => {
      const p = pending
      pending = undefined
      p?.(Effect.void)
      if (Date.now() < deadline + 100) setImmediate(tick)
    }
    next()
    tick()
  })

/** A long-lived fiber taking from an unbounded queue that timers feed, 64 requests outstanding. */
const queueTake = () =>
  Effect.runPromise(Effect.gen(function*() {
    const queue = yield* Queue.unbounded<() => void>()
    const worker = yield* Effect.fork(Effect.forever(Effect.flatMap(Queue.takeBetween(queue, 1, 512), (batch) =>
      Effect.sync(() => {
        const items = Array.from(batch)
        setTimeout(() => {
          for (const done of items) done()
        }, 1)
      }))))
    const deadline = Date.now() + seconds * 1000
    let ops = 0
    yield* Effect.async<void>((resume) => {
      let open = 64
      const request = (): void => {
        if (Date.now() >= deadline) {
          if (--open === 0) resume(Effect.void)
          return
        }
        Queue.unsafeOffer(queue, () => {
          ops++
          request()
        })
      }
      for (let k = 0; k < 64; k++) request()
    })
    yield* Fiber.interrupt(worker)
    return ops
  }))

interface Row {
  readonly name: string
  readonly about: string
  readonly opsPerSecond: number
  readonly promotedPerScavengeKB: number
  readonly meanPauseMs: number
  readonly scavenges: number
}

const measure = (name: string): Row => {
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--trace-gc-nvp", "--import", "tsx", import.meta.filename, "--case", name, "--seconds", String(seconds)],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }
  )
  const lines = r.stdout.split("\n")
  const ops = Number(lines.find((l) => l.startsWith("ops "))?.slice(4) ?? NaN)
  const scavenges = lines.filter((l) => / gc=s /.test(l)).slice(-20)
  const field = (line: string, key: string) => Number(new RegExp(` ${key}=([0-9.]+)`).exec(line)?.[1] ?? NaN)
  const mean = (key: string) => scavenges.reduce((a, l) => a + field(l, key), 0) / Math.max(1, scavenges.length)
  return {
    name,
    about: cases[name]!.about,
    opsPerSecond: Math.round(ops / seconds),
    promotedPerScavengeKB: Math.round(mean("promoted") / 1024),
    meanPauseMs: Math.round(mean("pause") * 10) / 10,
    scavenges: scavenges.length
  }
}

const only = option("case")
if (only !== undefined) {
  const c = cases[only]
  if (c === undefined) {
    process.stderr.write(`unknown case ${only}; cases: ${Object.keys(cases).join(", ")}\n`)
    process.exit(2)
  }
  void c.run().then((ops) => {
    void sink
    process.stdout.write(`ops ${ops}\n`)
    process.exit(0)
  })
} else {
  const rows = Object.keys(cases).map(measure)
  process.stdout.write("| case | what | ops/s | promoted per scavenge | mean pause | scavenges measured |\n| --- | --- | --- | --- | --- | --- |\n")
  for (const r of rows) {
    process.stdout.write(
      `| ${r.name} | ${r.about} | ${r.opsPerSecond.toLocaleString("en-US")} | ${r.promotedPerScavengeKB.toLocaleString("en-US")} KB | ${r.meanPauseMs} ms | ${r.scavenges} |\n`
    )
  }
  process.stdout.write(
    JSON.stringify({ bench: "gc-promotion", date: new Date().toISOString(), node: process.version, seconds, rows }) + "\n"
  )
}
