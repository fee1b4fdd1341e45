import { Data } from "effect"

/**
 * Every failure of the MariaDB test harness: the binary is missing, a server did not start, replication did not come
 * up, nft is unavailable... `message` is written for the person reading a failed test; the low-level error (if any)
 * is in `cause`. The Promise API rejects with this same class, the Effect API fails with it.
 */
export class HarnessError extends Data.TaggedError("HarnessError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** Wraps anything thrown by the harness or a driver into a HarnessError (kept as is when it already is one). */
export const toHarnessError = (u: unknown, context?: string): HarnessError => {
  if (u instanceof HarnessError) return u
  const text = u instanceof Error ? u.message : String(u)
  return new HarnessError({ message: context === undefined ? text : `${context}: ${text}`, cause: u })
}
