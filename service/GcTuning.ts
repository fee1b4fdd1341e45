/**
 * Process-wide settings that keep V8's young-generation GC (the scavenger) from promoting short-lived objects.
 *
 * Why: on this stack (Node 20, V8 11.3, Effect 3.22) a busy node promoted ~1.4–1.8 MB at every scavenge, nearly
 * all of it objects that were already dead (a heap snapshot a second later holds <10 % of them). Promotion is
 * what makes a scavenge long: each promoted page is a fresh page, and a page fault costs ~12.5 µs on the VMs
 * measured, so a scavenge stopped the event loop for 6–12 ms about eight times a second — the raft leader's
 * commit tail (docs/benchmarks.md, "Why the scavenges promote", session 9). Two mechanisms, both measured in
 * isolation by `npm run bench -- gc-promotion`:
 *
 * - Allocation-site pretenuring: once objects from a site survived a GC at a high rate (warm-up, an idle
 *   stretch), V8 allocates that site's objects directly in old space. Effect's run loop then mutates those
 *   born-old objects (a Deferred's state, a fiber's fields) to point at young ones, and an old object — dead or
 *   alive — keeps what it points at through every scavenge until the next full GC. Turned off here.
 * - Effect's set of running root fibers (every `Runtime.runFork`: one per HTTP request, per proposal) is a
 *   long-lived JS `Set` with an add and a delete per fiber. V8 rebuilds a Set's hash table as entries churn;
 *   once the table is in old space the rebuilt ones are too, and each obsolete table keeps its entries until the
 *   next full GC, so every fiber that passed through is kept through scavenges and promoted. Replaced here by
 *   a set with the same interface over a dictionary object (core/raft/runtime/ChurnTable.ts).
 *
 * Idempotent; call it first thing in a process (the node's CLI, the bench's raft members).
 */
import { Fiber } from "effect"
import * as v8 from "node:v8"
import { ChurnTable } from "../core/raft/runtime/ChurnTable.js"

export interface GcTuningReport {
  readonly pretenuringDisabled: boolean
  /** False when this Effect version keeps its fiber roots elsewhere: the tuning then leaves them alone. */
  readonly fiberRootsReplaced: boolean
}

/** Where Effect 3.x keeps its global fiber scope: `globalValue(Symbol.for("effect/FiberScope/Global"))`. */
const globalStoreKey = "effect/GlobalValue"
const fiberScopeKey = Symbol.for("effect/FiberScope/Global")

interface FiberLike {
  readonly id: () => { readonly id: number }
}

/**
 * The running root fibers, keyed by fiber id in a ChurnTable (a dictionary object). Implements the part of `Set`
 * that Effect uses (`add`, `delete`, iteration for `Fiber.roots`) and the rest of the read side for safety.
 */
export class FiberRootSet<F extends FiberLike> implements Iterable<F> {
  private readonly table = new ChurnTable<F>()

  get size(): number {
    return this.table.size
  }

  add(fiber: F): this {
    this.table.set(fiber.id().id, fiber)
    return this
  }

  delete(fiber: F): boolean {
    return this.has(fiber) && this.table.delete(fiber.id().id)
  }

  has(fiber: F): boolean {
    return this.table.get(fiber.id().id) === fiber
  }

  clear(): void {
    this.table.clear()
  }

  values(): IterableIterator<F> {
    return this.table.values()[Symbol.iterator]()
  }

  keys(): IterableIterator<F> {
    return this.values()
  }

  forEach(f: (fiber: F, again: F, set: this) => void): void {
    for (const fiber of this.values()) f(fiber, fiber, this)
  }

  [Symbol.iterator](): IterableIterator<F> {
    return this.values()
  }
}

const effectFiberScope = (): { roots: unknown } | undefined => {
  // Read the store without creating anything in it: a missing entry must stay missing for Effect to fill.
  const store: unknown = Reflect.get(globalThis, globalStoreKey)
  if (!(store instanceof Map)) return undefined
  const scope: unknown = store.get(fiberScopeKey)
  return typeof scope === "object" && scope !== null && "roots" in scope ? (scope as { roots: unknown }) : undefined
}

const replaceFiberRoots = (): boolean => {
  // Loading `Fiber` loads Effect's fiber scope module, which creates the global scope.
  void Fiber.unsafeRoots
  const scope = effectFiberScope()
  if (scope === undefined) return false
  if (scope.roots instanceof FiberRootSet) return true
  if (!(scope.roots instanceof Set)) return false
  const replacement = new FiberRootSet<FiberLike>()
  for (const fiber of scope.roots as Set<FiberLike>) replacement.add(fiber)
  scope.roots = replacement
  return true
}

let applied: GcTuningReport | undefined

export const applyGcTuning = (): GcTuningReport => {
  if (applied !== undefined) return applied
  v8.setFlagsFromString("--no-allocation-site-pretenuring")
  applied = { pretenuringDisabled: true, fiberRootsReplaced: replaceFiberRoots() }
  return applied
}
