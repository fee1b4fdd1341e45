import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { ChurnTable } from "../../core/raft/runtime/ChurnTable.js"

type Op =
  | { readonly op: "set"; readonly key: string | number; readonly value: number }
  | { readonly op: "delete"; readonly key: string | number }
  | { readonly op: "clear" }

// A small key space, so that sets overwrite and deletes hit; numbers and strings that look alike ("3" and 3)
// name the same entry, as they do in the table (property keys), so the model maps both through String().
const key = fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom("a", "b", "node-1#3", "3"))
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("set" as const), key, value: fc.integer() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) }
)

describe("ChurnTable", () => {
  it("behaves as a Map keyed by the key's string form", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const table = new ChurnTable<number>()
        const model = new Map<string, number>()
        for (const o of ops) {
          if (o.op === "set") {
            table.set(o.key, o.value)
            model.set(String(o.key), o.value)
          } else if (o.op === "delete") {
            expect(table.delete(o.key)).toBe(model.delete(String(o.key)))
          } else {
            table.clear()
            model.clear()
          }
          expect(table.size).toBe(model.size)
        }
        for (const k of ["a", "b", "node-1#3", "3", "0", "7"]) expect(table.get(k)).toBe(model.get(k))
        expect([...table.values()].sort()).toEqual([...model.values()].sort())
      })
    )
  })

  it("answers a missing key with undefined, and deleting it with false", () => {
    const table = new ChurnTable<{ readonly n: number }>()
    expect(table.get("x")).toBeUndefined()
    expect(table.delete("x")).toBe(false)
    table.set("x", { n: 1 })
    expect(table.get("x")).toEqual({ n: 1 })
    expect(table.delete("x")).toBe(true)
    expect(table.size).toBe(0)
  })

  it("has no inherited keys: a key named like an Object method is just a key", () => {
    const table = new ChurnTable<number>()
    expect(table.get("toString")).toBeUndefined()
    expect(table.get("__proto__")).toBeUndefined()
    table.set("constructor", 1)
    expect(table.get("constructor")).toBe(1)
    expect(table.size).toBe(1)
  })
})
