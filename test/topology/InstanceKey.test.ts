import { describe, expect, it } from "@effect/vitest"
import { Either, Equal, FastCheck, Schema } from "effect"
import * as Key from "../../core/topology/InstanceKey.js"
import { InstanceKey } from "../../core/topology/InstanceKey.js"

// Hostnames as orchestrator sees them: DNS names and IPv4 (anything without ':').
const hostname = FastCheck.oneof(
  FastCheck.domain(),
  FastCheck.ipV4(),
  FastCheck.stringMatching(/^[a-z0-9_][a-z0-9._-]{0,30}$/)
)
const port = FastCheck.integer({ min: 1, max: 65535 })

describe("InstanceKey", () => {
  it.prop("format then parse is the identity", [hostname, port], ([h, p]) => {
    const key = Key.unsafeMake(h, p)
    const parsed = Key.parse(Key.format(key))
    expect(Either.isRight(parsed)).toBe(true)
    expect(Equal.equals(Either.getOrThrow(parsed), key)).toBe(true)
    expect(String(Either.getOrThrow(parsed))).toBe(`${h}:${p}`)
  })

  it.prop("parse then format is the identity on host:port text", [hostname, port], ([h, p]) => {
    const text = `${h}:${p}`
    expect(Key.format(Either.getOrThrow(Key.parse(text)))).toBe(text)
  })

  it.prop("JSON schema round trip", [hostname, port], ([h, p]) => {
    const key = Key.unsafeMake(h, p)
    const encoded = Schema.encodeSync(InstanceKey)(key)
    expect(encoded).toEqual({ hostname: h, port: p })
    expect(Equal.equals(Schema.decodeUnknownSync(InstanceKey)(JSON.parse(JSON.stringify(encoded))), key)).toBe(true)
  })

  it("requires a port unless a default is given (orchestrator DefaultInstancePort = 3306)", () => {
    expect(Either.isLeft(Key.parse("db1"))).toBe(true)
    expect(Either.getOrThrow(Key.parse("db1", { defaultPort: Key.defaultInstancePort })).port).toBe(3306)
  })

  it("accepts orchestrator's IPv6 forms", () => {
    const k = Either.getOrThrow(Key.parse("[2001:db8::7]:3307"))
    expect([k.hostname, k.port]).toEqual(["2001:db8::7", 3307])
    expect(Either.getOrThrow(Key.parse("2001:db8::7", { defaultPort: 3306 })).hostname).toBe("2001:db8::7")
    // StringCode has no brackets, exactly as orchestrator prints it.
    expect(Key.format(k)).toBe("2001:db8::7:3307")
  })

  it("rejects bad ports and empty hosts", () => {
    for (const bad of ["db:0", "db:65536", "db:99999999", ":3306", "db:", "db:12a", "a:b:c"]) {
      expect(Either.isLeft(Key.parse(bad)), bad).toBe(true)
    }
    expect(Either.isLeft(Key.make("", 3306))).toBe(true)
    expect(() => new InstanceKey({ hostname: "h", port: 70000 })).toThrow()
  })

  it("equality, ordering, validity", () => {
    const a = Key.unsafeMake("a", 2)
    expect(Key.equals(a, Key.unsafeMake("a", 2))).toBe(true)
    expect(Key.equals(a, null)).toBe(false)
    expect(Key.sortedUnique([Key.unsafeMake("b", 1), a, Key.unsafeMake("a", 1), a]).map(Key.format)).toEqual([
      "a:1",
      "a:2",
      "b:1"
    ])
    expect(Key.isValid(Key.unsafeMake("_", 3306))).toBe(false)
    expect(Key.isValid(Key.unsafeMake("//db1", 3306))).toBe(false)
    expect(Key.isDetached(Key.unsafeMake("//db1", 3306))).toBe(true)
  })
})
