/**
 * Finds where a JSON text stops being valid, as a line and column.
 *
 * V8's `JSON.parse` messages name a position only for some errors ("Unexpected token '}', ... is
 * not valid JSON" has none), and operators editing a config file want "line 12, column 3". This is
 * a small recursive-descent recogniser of RFC 8259 JSON that reports the first offending offset;
 * it is only called after `JSON.parse` has already failed, so it never sits on a hot path.
 */

export interface JsonErrorLocation {
  readonly offset: number
  readonly line: number
  readonly column: number
  readonly expected: string
}

class Stop {
  constructor(readonly offset: number, readonly expected: string) {}
}

const locate = (text: string, offset: number, expected: string): JsonErrorLocation => {
  let line = 1
  let column = 1
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++
      column = 1
    } else {
      column++
    }
  }
  return { offset, line, column, expected }
}

/** Returns the location of the first syntax error, or undefined when the text is valid JSON. */
export const locateJsonError = (text: string): JsonErrorLocation | undefined => {
  let i = 0
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) {
      if (text[i + k] !== word[k]) throw new Stop(i + k, `'${word}'`)
    }
    i += word.length
  }
  const string = () => {
    if (text[i] !== "\"") throw new Stop(i, "a double-quoted string")
    i++
    while (i < text.length) {
      const c = text[i]!
      if (c === "\"") {
        i++
        return
      }
      if (c === "\\") {
        const e = text[i + 1]
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i + 2, "4 hex digits")
          i += 6
        } else if (e !== undefined && "\"\\/bfnrt".includes(e)) {
          i += 2
        } else {
          throw new Stop(i + 1, "a valid escape")
        }
      } else if (c.charCodeAt(0) < 0x20) {
        throw new Stop(i, "no control character inside a string")
      } else {
        i++
      }
    }
    throw new Stop(i, "a closing '\"'")
  }
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))
    if (!m || m[0] === "" || m[0] === "-") throw new Stop(i, "a value")
    i += m[0].length
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === "{") return object()
    if (c === "[") return array()
    if (c === "\"") return string()
    if (c === "t") return literal("true")
    if (c === "f") return literal("false")
    if (c === "n") return literal("null")
    return number()
  }
  const object = () => {
    i++
    ws()
    if (text[i] === "}") {
      i++
      return
    }
    for (;;) {
      ws()
      string()
      ws()
      if (text[i] !== ":") throw new Stop(i, "':'")
      i++
      value()
      ws()
      if (text[i] === ",") {
        i++
        continue
      }
      if (text[i] === "}") {
        i++
        return
      }
      throw new Stop(i, "',' or '}'")
    }
  }
  const array = () => {
    i++
    ws()
    if (text[i] === "]") {
      i++
      return
    }
    for (;;) {
      value()
      ws()
      if (text[i] === ",") {
        i++
        continue
      }
      if (text[i] === "]") {
        i++
        return
      }
      throw new Stop(i, "',' or ']'")
    }
  }
  try {
    value()
    ws()
    if (i < text.length) throw new Stop(i, "end of input")
    return undefined
  } catch (e) {
    if (e instanceof Stop) return locate(text, e.offset, e.expected)
    throw e
  }
}
