/**
 * A fast check that an unknown value is a valid raft `Message`, compiled once from the Message schema's AST.
 *
 * Why not `Schema.decodeUnknown(Message)` on every frame: decoding builds a new object for every struct and an
 * Either for every field, ~2 KB of garbage per entry of an AppendEntries, a third of a follower's allocation
 * under load (docs/benchmarks.md). The messages are type-level schemas (no transformations), so a value the
 * schema accepts decodes to itself minus unknown keys; checking it without copying is enough. The check is
 * derived from the schema (same keywords, literals, required keys and refinement filters), so the schema stays
 * the one definition of the wire format; a value it rejects goes through `Schema.decodeUnknown` for the
 * error message. Anything the compiler does not know (transformations, optional keys, index signatures)
 * makes `compileGuard` return undefined and the caller decodes with Schema as before.
 */
import { Option, SchemaAST as AST } from "effect"

export type Guard = (u: unknown) => boolean

const hasOwn = (o: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, key)

export const compileGuard = (ast: AST.AST): Guard | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Refinement": {
      const from = compileGuard(ast.from)
      if (from === undefined) return undefined
      return (u) => from(u) && Option.isNone(ast.filter(u, {}, ast))
    }
    case "TypeLiteral": {
      if (ast.indexSignatures.length > 0) return undefined
      const props: Array<readonly [PropertyKey, Guard]> = []
      for (const ps of ast.propertySignatures) {
        const guard = compileGuard(ps.type)
        if (guard === undefined || ps.isOptional) return undefined
        props.push([ps.name, guard])
      }
      return (u) => {
        if (typeof u !== "object" || u === null) return false
        const record = u as Record<PropertyKey, unknown>
        for (const [name, guard] of props) if (!hasOwn(record, name) || !guard(record[name])) return false
        return true
      }
    }
    case "TupleType": {
      // Only Schema.Array(x): no fixed elements, one rest element.
      if (ast.elements.length > 0 || ast.rest.length !== 1) return undefined
      const item = compileGuard(ast.rest[0]!.type)
      if (item === undefined) return undefined
      return (u) => {
        if (!Array.isArray(u)) return false
        // Every index, holes included (`every` would skip a hole that Schema rejects as undefined).
        for (let i = 0; i < u.length; i++) if (!item(u[i])) return false
        return true
      }
    }
    case "Union": {
      // A union of literals (Schema.Literal("a", "b")): membership.
      if (ast.types.every((t) => t._tag === "Literal")) {
        const literals = new Set(ast.types.map((t) => (t as AST.Literal).literal))
        return (u) => literals.has(u as AST.LiteralValue)
      }
      // Otherwise tagged structs only: dispatch on the literal `_tag`, as Schema's union does with its candidates.
      const byTag = new Map<unknown, Guard>()
      for (const member of ast.types) {
        if (member._tag !== "TypeLiteral") return undefined
        const tag = member.propertySignatures.find((ps) => ps.name === "_tag")
        if (tag === undefined || tag.type._tag !== "Literal" || byTag.has(tag.type.literal)) return undefined
        const guard = compileGuard(member)
        if (guard === undefined) return undefined
        byTag.set(tag.type.literal, guard)
      }
      return (u) => {
        if (typeof u !== "object" || u === null) return false
        const guard = byTag.get((u as { readonly _tag?: unknown })._tag)
        return guard !== undefined && guard(u)
      }
    }
    default:
      return undefined
  }
}
