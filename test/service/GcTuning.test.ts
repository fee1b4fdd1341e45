import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { applyGcTuning, FiberRootSet } from "../../service/GcTuning.js"

const fakeFiber = (id: number) => ({ id: () => ({ id }) })

describe("GC tuning", () => {
  it("replaces Effect's fiber roots on this Effect version, and is idempotent", () => {
    const first = applyGcTuning()
    expect(first).toEqual({ pretenuringDisabled: true, fiberRootsReplaced: true })
    expect(applyGcTuning()).toBe(first)
  })

  it("keeps Fiber.roots working: a running root fiber is listed, and gone once it ends", async () => {
    applyGcTuning()
    const fiber = Effect.runFork(Effect.never)
    expect(Fiber.unsafeRoots()).toContain(fiber)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(Fiber.unsafeRoots()).not.toContain(fiber)
  })

  it("FiberRootSet: add, has, delete and iteration by fiber id", () => {
    const roots = new FiberRootSet<ReturnType<typeof fakeFiber>>()
    const a = fakeFiber(1)
    const b = fakeFiber(2)
    roots.add(a).add(b).add(a)
    expect(roots.size).toBe(2)
    expect(roots.has(a)).toBe(true)
    expect([...roots]).toEqual([a, b])
    // A different object under the same id is not the member: deleting it must not drop the real one.
    expect(roots.delete(fakeFiber(1))).toBe(false)
    expect(roots.delete(a)).toBe(true)
    expect(roots.delete(a)).toBe(false)
    expect(roots.has(a)).toBe(false)
    expect(roots.size).toBe(1)
    const seen: Array<number> = []
    roots.forEach((f) => seen.push(f.id().id))
    expect(seen).toEqual([2])
    roots.clear()
    expect(roots.size).toBe(0)
    expect([...roots.values()]).toEqual([])
  })
})
