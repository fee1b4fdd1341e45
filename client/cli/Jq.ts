/**
 * The few jq and shell behaviours orchestrator-client's output depends on, reproduced so that
 * scripts parsing its output keep working:
 * - `jq -r`: strings raw, everything else pretty-printed JSON (2-space indent, like `jq .`);
 * - jq's `+`: null is the identity (`"a" + null` is `"a"`), so missing fields vanish;
 * - `tostring`: strings as-is, other values as compact JSON (`null` → "null");
 * - `echo $x` unquoted: word splitting collapses jq's pretty JSON onto one line.
 * Values jq would fail on (indexing a string, iterating null) produce no output here.
 */

export const pretty = (v: unknown): string => JSON.stringify(v === undefined ? null : v, null, 2)

/** `jq -r .` of one value. */
export const raw = (v: unknown): string => (typeof v === "string" ? v : pretty(v))

/** `echo $x` of a text: words joined by single spaces. */
export const collapse = (text: string): string => text.split(/[ \t\n]+/).filter((w) => w !== "").join(" ")

export const tostring = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v === undefined ? null : v))

const isObject = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/** jq's `.field`: null for null input and missing fields; undefined (jq error) for non-objects. */
export const field = (v: unknown, name: string): unknown => {
  if (v === null || v === undefined) return null
  if (!isObject(v)) return undefined
  return name in v ? v[name] : null
}

/** jq's `.[]`: the elements of an array (or values of an object); nothing for anything else. */
export const each = (v: unknown): ReadonlyArray<unknown> =>
  Array.isArray(v) ? v : isObject(v) ? Object.values(v) : []

/** jq's `+` on strings with null as identity; undefined when jq would fail. */
export const add = (...parts: ReadonlyArray<unknown>): string | undefined => {
  let out: string | null = null
  for (const p of parts) {
    if (p === null) continue
    if (typeof p !== "string") return undefined
    out = (out ?? "") + p
  }
  return out ?? undefined
}

/** orchestrator-client's `print_key`: `.Hostname + ":" + (.Port | tostring)`. */
export const keyText = (v: unknown): string | undefined => {
  if (v !== null && v !== undefined && !isObject(v)) return undefined
  return add(field(v, "Hostname"), ":", tostring(field(v, "Port")))
}

/** `filter_keys | print_key`: the `.Key` of each element. */
export const keysOf = (list: unknown): ReadonlyArray<string> =>
  each(list).map((i) => keyText(field(i, "Key"))).filter((k): k is string => k !== undefined)

/** `print_keys`: each element is itself a key. */
export const keyList = (list: unknown): ReadonlyArray<string> =>
  each(list).map(keyText).filter((k): k is string => k !== undefined)
