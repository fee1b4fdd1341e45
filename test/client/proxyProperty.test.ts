/**
 * Property: the proxy never forwards to a node whose most recent completed leader-check was not
 * 200, and forwards whenever some node's most recent check was 200. Random schedules interleave
 * answer changes, poll starts, check completions (in any order, including failures and late
 * answers) and client requests, over an in-memory fetch the schedule controls.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { makeProxyHandler } from "../../client/proxy/Proxy.js"
import { applyCheck, initial, leaderIndex } from "../../client/proxy/ProxyState.js"

type Answer = 200 | 404 | 500 | "fail"
type Step =
  | { readonly t: "set"; readonly node: number; readonly answer: Answer }
  | { readonly t: "poll" }
  | { readonly t: "complete"; readonly node: number }
  | { readonly t: "request" }

const N = 3
const nodeArb = fc.integer({ min: 0, max: N - 1 })
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant("set" as const), node: nodeArb, answer: fc.constantFrom<Answer>(200, 404, 500, "fail") }),
  fc.constant({ t: "poll" as const }),
  fc.record({ t: fc.constant("complete" as const), node: nodeArb }),
  fc.record({ t: fc.constant("complete" as const), node: nodeArb }),
  fc.constant({ t: "request" as const })
)

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

const runSchedule = async (steps: ReadonlyArray<Step>) => {
  const urls = Array.from({ length: N }, (_, i) => `http://node${i}.test`)
  const answers: Array<Answer> = urls.map(() => 404)
  /** What the proxy has been told, per node: the answer of its latest completed check. */
  const lastCompleted: Array<Answer | undefined> = urls.map(() => undefined)
  const pending: Array<Array<() => void>> = urls.map(() => [])
  let forwardedTo: number | undefined

  const fetchImpl = (input: string, init?: RequestInit): Promise<Response> => {
    const node = urls.findIndex((u) => input.startsWith(u))
    if (input.endsWith("/api/leader-check")) {
      return new Promise<Response>((resolve, reject) => {
        const onAbort = () => reject(new Error("aborted"))
        init?.signal?.addEventListener("abort", onAbort)
        pending[node]!.push(() => {
          const a = answers[node]!
          lastCompleted[node] = a
          if (a === "fail") reject(new Error("ECONNREFUSED"))
          else resolve(new Response(a === 200 ? '"OK"' : '"Not leader"', { status: a }))
        })
      })
    }
    forwardedTo = node
    return Promise.resolve(new Response('"forwarded"', { status: 200 }))
  }

  const h = makeProxyHandler({ nodes: urls, intervalMillis: 1e9, checkTimeoutMillis: 1e9 - 1, fetch: fetchImpl })
  h.start() // the background loop starts a first round, then sleeps "forever"; polls come from the schedule
  try {
    for (const step of steps) {
      switch (step.t) {
        case "set":
          answers[step.node] = step.answer
          break
        case "poll":
          void h.pollNow()
          break
        case "complete": {
          const resolve = pending[step.node]!.shift()
          if (resolve !== undefined) {
            resolve()
            await tick()
          }
          break
        }
        case "request": {
          forwardedTo = undefined
          const res = await h(new Request("http://proxy.test/api/clusters"))
          const anyLeader = lastCompleted.some((a) => a === 200)
          if (forwardedTo !== undefined) {
            expect(lastCompleted[forwardedTo]).toBe(200)
            expect(res.status).toBe(200)
          } else {
            expect(res.status).toBe(503)
            expect(anyLeader).toBe(false)
          }
        }
      }
    }
  } finally {
    for (const p of pending) p.splice(0).forEach((r) => r())
    await h.stop()
  }
}

describe("proxy leader rule (property)", () => {
  it("never forwards to a node whose latest leader-check was not 200", async () => {
    const seed = Date.now() % 1_000_000
    console.log(`proxy property seed: ${seed}`)
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => runSchedule(steps)),
      { numRuns: 300, seed }
    )
  })

  it("the pure rule: the leader is always a node whose latest check is 200, preferring the newest claimant", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ node: nodeArb, status: fc.constantFrom(200, 404, 503, null) }), { maxLength: 80 }),
        (checks) => {
          let s = initial(["a", "b", "c"])
          const claimedAt: Array<number> = [0, 0, 0]
          checks.forEach((c, i) => {
            const was = s.nodes[c.node]!.last?.status === 200
            s = applyCheck(s, c.node, { status: c.status, error: null, at: i, latencyMillis: 0 })
            if (c.status === 200 && !was) claimedAt[c.node] = i + 1
          })
          const l = leaderIndex(s)
          const claimants = s.nodes.flatMap((n, i) => (n.last?.status === 200 ? [i] : []))
          if (claimants.length === 0) return l === undefined
          const newest = Math.max(...claimants.map((i) => claimedAt[i]!))
          return l !== undefined && claimants.includes(l) && claimedAt[l] === newest
        }
      ),
      { numRuns: 1000 }
    )
  })
})
