/**
 * orchestrator's "simple time" durations (util.SimpleTimeToSeconds): `59s`, `10m`, `1h`, `2d`,
 * `4w`, or a bare number of seconds.
 */
import { Either } from "effect"

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

export const simpleTimeToSeconds = (text: string): Either.Either<number, string> => {
  const m = /^([0-9]{1,9})([smhdw]?)$/.exec(text.trim())
  if (!m) return Either.left(`Cannot parse simple time: ${text} (expected a number with s, m, h, d or w, e.g. 10m)`)
  return Either.right(Number(m[1]) * unitSeconds[m[2] || "s"]!)
}
