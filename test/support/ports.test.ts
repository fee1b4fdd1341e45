import { describe, expect, it } from "@effect/vitest"
import { freePort, portRangeOf } from "./ports.js"

describe("test ports", () => {
  it("gives the vitest workers running at once disjoint slices below the ephemeral range", () => {
    const ranges = ["1", "2", "3", "4"].map((id) => portRangeOf(id))
    for (const [i, r] of ranges.entries()) {
      expect(r.low).toBeGreaterThanOrEqual(20000)
      expect(r.high).toBeLessThanOrEqual(32000)
      expect(r.high - r.low).toBe(3000)
      for (const other of ranges.slice(i + 1)) expect(r.high <= other.low || other.high <= r.low).toBe(true)
    }
    expect(portRangeOf("5")).toEqual(portRangeOf("1"))
    expect(portRangeOf(undefined)).toEqual({ low: 20000, high: 32000 })
    expect(portRangeOf("not a number")).toEqual({ low: 20000, high: 32000 })
  })

  it("hands out free ports of this worker's slice, never the same one twice", async () => {
    const range = portRangeOf(process.env.VITEST_POOL_ID)
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()))
    expect(new Set(ports).size).toBe(50)
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(range.low)
      expect(p).toBeLessThan(range.high)
    }
  })
})
