/**
 * A linearizability checker in the style of Porcupine (anishathalye/porcupine): the Wing–Gong algorithm
 * with Lowe's memoization ("Testing for linearizability", 2017). Given a history of operations, each with
 * the client-observed interval [call, return] (monotonic clock), it searches for a total order that
 * respects real time (an operation that returned before another was called comes first) and that a
 * sequential model accepts, output for output.
 *
 * How the search works (as Porcupine's `checkSingle`): the call and return events are sorted by time into
 * a doubly linked list. Walking it, the checker tries to linearize the operation of each call event it
 * meets — i.e. to apply it to the model now — and, if the model accepts, removes ("lifts") the operation's
 * call and return from the list and restarts from the head. Meeting a return event means the operation it
 * belongs to should have been linearized already: the last choice is undone (dancing links make the undo
 * O(1)) and the next candidate tried. Lowe's cache remembers every (set of linearized operations, model
 * state) reached; reaching one again can only fail the same way, so that branch is cut. The set is a
 * bitset; the cache is keyed by its hash combined with the model's state hash, and compared exactly.
 *
 * Operations with an unknown outcome (a timeout, a reset connection, an ambiguous error) are recorded with
 * `return = +Infinity` and an output the model accepts whatever the state (Porcupine's approach): such an
 * operation may take effect at any point after its call, or — by being linearized after everything that
 * was observed — not at all.
 *
 * P-compositionality (Horn & Kroening): a history over independent objects (here: keys) is linearizable
 * iff each object's sub-history is, so the model may split the history (`partition`) and each part is
 * checked on its own — much smaller searches.
 */

export interface Operation<Input, Output> {
  /** The client (worker) that issued it; only for diagnostics (a client's operations never overlap). */
  readonly clientId: number
  readonly input: Input
  /** What the client observed. For an operation that never returned, the model's "unknown" output. */
  readonly output: Output
  /** Client-observed call time (performance.now()). */
  readonly call: number
  /** Client-observed return time; `Number.POSITIVE_INFINITY` when the outcome is unknown. */
  readonly return: number
}

export interface Model<State, Input, Output> {
  readonly init: () => State
  /** Whether `input` producing `output` is possible in `state`, and the state after it. */
  readonly step: (state: State, input: Input, output: Output) => readonly [boolean, State]
  /** Splits the history into independently checkable parts (by key). Default: one part. */
  readonly partition?: (
    history: ReadonlyArray<Operation<Input, Output>>
  ) => ReadonlyArray<ReadonlyArray<Operation<Input, Output>>>
  readonly equal: (a: State, b: State) => boolean
  /** Equal states must hash equally. */
  readonly hash: (state: State) => string
  /**
   * Symmetry among operations that never returned: two pending operations of the same class (the same
   * non-undefined string) must have the same effect on every state, accepted in every state (e.g. two
   * deletes of one key with unknown outcome). The search then only linearizes a class's pending
   * operations in call order, which loses nothing: in any valid order, swapping two of them so that the
   * earlier-called one comes first keeps every constraint (the moved-up one was called even earlier, and
   * nothing has to follow an operation that never returned). Without it, k pending operations multiply a
   * failing search by up to 2^k.
   */
  readonly symmetryClass?: (input: Input, output: Output) => string | undefined
  readonly describeOperation?: (input: Input, output: Output) => string
  readonly describeState?: (state: State) => string
}

export interface CheckOptions {
  /**
   * Upper bound on search steps per partition. The problem is NP-complete; a history that exhausts the
   * budget is reported as `Unknown`, never as linearizable. Default 5,000,000.
   */
  readonly maxSteps?: number
}

export interface PartitionFailure {
  /** Index of the failing partition in `model.partition(history)`. */
  readonly partition: number
  readonly operations: number
  /** A longest prefix the search could linearize, in order, as described operations. */
  readonly longestPrefix: ReadonlyArray<string>
  /** The model state after that prefix. */
  readonly stateAfterPrefix: string
  /** Operations not in the prefix whose call precedes the earliest return among them: the ones that could not go next. */
  readonly stuck: ReadonlyArray<string>
}

export type CheckResult =
  | { readonly _tag: "Ok"; readonly partitions: number; readonly operations: number; readonly steps: number }
  | {
    readonly _tag: "Illegal"
    readonly partitions: number
    readonly operations: number
    readonly steps: number
    readonly failure: PartitionFailure
  }
  | {
    readonly _tag: "Unknown"
    readonly partitions: number
    readonly operations: number
    readonly steps: number
    /** The partition whose search ran out of budget. */
    readonly partition: number
  }

// ---- bitset ------------------------------------------------------------------------------------------

class Bitset {
  constructor(readonly words: Uint32Array) {}
  static empty(n: number): Bitset {
    return new Bitset(new Uint32Array(Math.max(1, Math.ceil(n / 32))))
  }
  clone(): Bitset {
    return new Bitset(this.words.slice())
  }
  set(i: number): this {
    this.words[i >>> 5]! |= 1 << (i & 31)
    return this
  }
  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0
  }
  clear(i: number): this {
    this.words[i >>> 5]! &= ~(1 << (i & 31))
    return this
  }
  equals(other: Bitset): boolean {
    const a = this.words
    const b = other.words
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  /** FNV-1a over the words. */
  hash(): number {
    let h = 0x811c9dc5
    for (const w of this.words) {
      h = Math.imul(h ^ (w & 0xffff), 0x01000193)
      h = Math.imul(h ^ (w >>> 16), 0x01000193)
    }
    return h >>> 0
  }
}

const stringHash = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

// ---- the linked event list -------------------------------------------------------------------------

interface Node {
  /** Operation index; -1 for the head sentinel. */
  readonly id: number
  /** For a call node: its return node. For a return node and the head: undefined. */
  match: Node | undefined
  prev: Node | undefined
  next: Node | undefined
}

/** Removes a call node and its return node from the list; both keep their own links for `unlift`. */
const lift = (call: Node): void => {
  call.prev!.next = call.next
  if (call.next !== undefined) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next !== undefined) ret.next.prev = ret.prev
}

/** Puts back what `lift` removed, in reverse order (dancing links). */
const unlift = (call: Node): void => {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next !== undefined) ret.next.prev = ret
  call.prev!.next = call
  if (call.next !== undefined) call.next.prev = call
}

interface Event {
  readonly id: number
  readonly kind: "call" | "return"
  readonly time: number
}

/**
 * Events by time; at equal times calls come before returns, so operations that touch at an instant count
 * as concurrent (the permissive reading: the clock cannot order them).
 */
const sortEvents = (events: Array<Event>): Array<Event> =>
  events.sort((a, b) =>
    a.time !== b.time ? a.time - b.time : a.kind !== b.kind ? (a.kind === "call" ? -1 : 1) : a.id - b.id
  )

const buildList = <I, O>(ops: ReadonlyArray<Operation<I, O>>): Node => {
  const events: Array<Event> = []
  ops.forEach((op, id) => {
    events.push({ id, kind: "call", time: op.call }, { id, kind: "return", time: op.return })
  })
  sortEvents(events)
  const head: Node = { id: -1, match: undefined, prev: undefined, next: undefined }
  const returns = new Map<number, Node>()
  const calls = new Map<number, Node>()
  let last = head
  for (const e of events) {
    const node: Node = { id: e.id, match: undefined, prev: last, next: undefined }
    last.next = node
    last = node
    if (e.kind === "call") calls.set(e.id, node)
    else returns.set(e.id, node)
  }
  for (const [id, call] of calls) call.match = returns.get(id)
  return head
}

// ---- the search -----------------------------------------------------------------------------------

type SingleResult =
  | { readonly _tag: "Ok"; readonly steps: number }
  | { readonly _tag: "Unknown"; readonly steps: number }
  | { readonly _tag: "Illegal"; readonly steps: number; readonly longest: ReadonlyArray<number> }

const checkSingle = <S, I, O>(model: Model<S, I, O>, ops: ReadonlyArray<Operation<I, O>>, maxSteps: number): SingleResult => {
  const n = ops.length
  const head = buildList(ops)
  const linearized = Bitset.empty(n)
  const cache = new Map<number, Array<{ readonly bits: Bitset; readonly state: S }>>()
  const calls: Array<{ readonly node: Node; readonly state: S }> = []
  let longest: ReadonlyArray<number> = []
  let state = model.init()
  let entry = head.next
  let steps = 0

  // For each pending operation with a symmetry class: the pending operation of its class called just before it.
  const previousInClass: Array<number | undefined> = ops.map(() => undefined)
  if (model.symmetryClass !== undefined) {
    const lastOfClass = new Map<string, number>()
    const pending = ops
      .map((op, id) => ({ op, id }))
      .filter((x) => x.op.return === Number.POSITIVE_INFINITY)
      .sort((a, b) => a.op.call - b.op.call || a.id - b.id)
    for (const { op, id } of pending) {
      const cls = model.symmetryClass(op.input, op.output)
      if (cls === undefined) continue
      previousInClass[id] = lastOfClass.get(cls)
      lastOfClass.set(cls, id)
    }
  }

  const cacheKey = (bits: Bitset, s: S) => (bits.hash() ^ stringHash(model.hash(s))) >>> 0
  const seen = (bits: Bitset, s: S): boolean => {
    const bucket = cache.get(cacheKey(bits, s))
    return bucket !== undefined && bucket.some((c) => c.bits.equals(bits) && model.equal(c.state, s))
  }
  const remember = (bits: Bitset, s: S) => {
    const key = cacheKey(bits, s)
    const bucket = cache.get(key)
    if (bucket === undefined) cache.set(key, [{ bits, state: s }])
    else bucket.push({ bits, state: s })
  }

  while (head.next !== undefined) {
    if (++steps > maxSteps) return { _tag: "Unknown", steps }
    if (entry === undefined) {
      // Only reachable if a return precedes its own call, which `check` rejects up front.
      throw new Error("linearizability: ran off the end of the event list")
    }
    if (entry.match !== undefined) {
      // A call: try to linearize its operation here.
      const op = ops[entry.id]!
      const before = previousInClass[entry.id]
      const [ok, next] = before !== undefined && !linearized.has(before) ? [false, state] : model.step(state, op.input, op.output)
      if (ok) {
        const bits = linearized.clone().set(entry.id)
        if (!seen(bits, next)) {
          remember(bits, next)
          calls.push({ node: entry, state })
          state = next
          linearized.set(entry.id)
          lift(entry)
          entry = head.next
          continue
        }
      }
      entry = entry.next
    } else {
      // A return whose operation is not linearized yet: undo the last choice, or give up.
      if (calls.length > longest.length) longest = calls.map((c) => c.node.id)
      const top = calls.pop()
      if (top === undefined) return { _tag: "Illegal", steps, longest }
      entry = top.node
      state = top.state
      linearized.clear(entry.id)
      unlift(entry)
      entry = entry.next
    }
  }
  return { _tag: "Ok", steps }
}

const describe = <S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string => {
  const what = model.describeOperation?.(op.input, op.output) ?? JSON.stringify({ input: op.input, output: op.output })
  const ret = Number.isFinite(op.return) ? op.return.toFixed(1) : "∞"
  return `client ${op.clientId} [${op.call.toFixed(1)}, ${ret}] ${what}`
}

const failureOf = <S, I, O>(
  model: Model<S, I, O>,
  ops: ReadonlyArray<Operation<I, O>>,
  partition: number,
  longest: ReadonlyArray<number>
): PartitionFailure => {
  let state = model.init()
  for (const id of longest) {
    const op = ops[id]!
    state = model.step(state, op.input, op.output)[1]
  }
  const done = new Set(longest)
  const rest = ops.map((op, id) => ({ op, id })).filter((x) => !done.has(x.id))
  const firstReturn = Math.min(...rest.map((x) => x.op.return))
  const stuck = rest.filter((x) => x.op.call <= firstReturn).sort((a, b) => a.op.call - b.op.call)
  return {
    partition,
    operations: ops.length,
    longestPrefix: longest.map((id) => describe(model, ops[id]!)),
    stateAfterPrefix: model.describeState?.(state) ?? model.hash(state),
    stuck: stuck.map((x) => describe(model, x.op))
  }
}

/** Checks a whole history: each partition must be linearizable. */
export const check = <S, I, O>(
  model: Model<S, I, O>,
  history: ReadonlyArray<Operation<I, O>>,
  options: CheckOptions = {}
): CheckResult => {
  for (const op of history) {
    if (!(op.return >= op.call) || Number.isNaN(op.call)) {
      throw new Error(`linearizability: operation returns before it is called: ${describe(model, op)}`)
    }
  }
  const parts = model.partition?.(history) ?? [history]
  const maxSteps = options.maxSteps ?? 5_000_000
  let steps = 0
  for (let p = 0; p < parts.length; p++) {
    const ops = parts[p]!
    const r = checkSingle(model, ops, maxSteps)
    steps += r.steps
    if (r._tag === "Unknown") return { _tag: "Unknown", partitions: parts.length, operations: history.length, steps, partition: p }
    if (r._tag === "Illegal") {
      return {
        _tag: "Illegal",
        partitions: parts.length,
        operations: history.length,
        steps,
        failure: failureOf(model, ops, p, r.longest)
      }
    }
  }
  return { _tag: "Ok", partitions: parts.length, operations: history.length, steps }
}

// ---- a key-value model: one register per key, with delete ---------------------------------------------

/**
 * The replicated state the chaos soak exercises, as independent registers: a tag value of an instance
 * (`/api/tag`, `/api/untag`, `/api/tag-value`), or an instance's downtime reason (`begin-downtime`,
 * `end-downtime`; read only from the final backend dump, as no read route serves downtime rows of
 * undiscovered instances). `null` is "absent" (no such tag / no downtime row).
 */
export type KvInput =
  | { readonly key: string; readonly op: "put"; readonly value: string }
  | { readonly key: string; readonly op: "delete" }
  | { readonly key: string; readonly op: "get" }

/** `unknown`: the operation never returned (or returned something that does not tell its outcome). */
export type KvOutput =
  | { readonly kind: "ok" }
  | { readonly kind: "value"; readonly value: string | null }
  | { readonly kind: "unknown" }

export type KvState = string | null

/**
 * Drops the pending puts (return = ∞) whose value no read returned. Only for histories where every put
 * writes a value of its own (the chaos soak's writes do), and it preserves the verdict exactly:
 * - if the history without the put is linearizable, appending the put at the very end of that order gives
 *   one for the full history (a pending operation may take effect after everything observed);
 * - if the full history is linearizable, removing the put from its order keeps it valid: between the put
 *   and the key's next write there is no read (a read there would have returned the put's unique value),
 *   so every read still sees what it saw, and removing an operation never breaks a real-time constraint.
 * Why bother: a pending operation is concurrent with everything after its call, so each one can double
 * the search on a history that turns out not to be linearizable (where the search must be exhaustive).
 * Acknowledged puts must stay: they took effect before they returned, which constrains the reads after.
 */
export const pruneUnobservedPendingPuts = (
  history: ReadonlyArray<Operation<KvInput, KvOutput>>
): Array<Operation<KvInput, KvOutput>> => {
  const observed = new Set<string>()
  for (const op of history) {
    if (op.input.op === "get" && op.output.kind === "value" && op.output.value !== null) {
      observed.add(`${op.input.key}\u0000${op.output.value}`)
    }
  }
  return history.filter((op) =>
    !(op.input.op === "put" && op.return === Number.POSITIVE_INFINITY && !observed.has(`${op.input.key}\u0000${op.input.value}`))
  )
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => null,
  step: (state, input, output) => {
    switch (input.op) {
      case "put":
        return [true, input.value]
      case "delete":
        return [true, null]
      case "get":
        return [output.kind !== "value" || output.value === state, state]
    }
  },
  partition: (history) => {
    const byKey = new Map<string, Array<Operation<KvInput, KvOutput>>>()
    for (const op of history) {
      const list = byKey.get(op.input.key)
      if (list === undefined) byKey.set(op.input.key, [op])
      else list.push(op)
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!)
  },
  equal: (a, b) => a === b,
  hash: (s) => (s === null ? "\u0000" : `=${s}`),
  // Puts write values of their own, so two pending puts are never interchangeable.
  symmetryClass: (input, output) =>
    output.kind !== "unknown" ? undefined : input.op === "delete" ? "delete" : input.op === "get" ? "get" : undefined,
  describeOperation: (input, output) => {
    const out = output.kind === "value" ? ` -> ${JSON.stringify(output.value)}` : output.kind === "unknown" ? " -> ?" : " -> ok"
    switch (input.op) {
      case "put":
        return `${input.key} put ${JSON.stringify(input.value)}${out}`
      case "delete":
        return `${input.key} delete${out}`
      case "get":
        return `${input.key} get${out}`
    }
  },
  describeState: (s) => JSON.stringify(s)
}
