/**
 * The SDK's typed failures. They stay inside the calling process (the SDK never serialises them),
 * so they are `Data.TaggedError`s (docs/conventions.md); each is also an `Error`, so the Promise
 * interface rejects with the same objects.
 */
import { Data } from "effect"

/** No node of ORCHESTRATOR_API answered 200 to leader-check nor to routed-leader-check. */
export class NoLeader extends Data.TaggedError("NoLeader")<{
  readonly apis: ReadonlyArray<string>
  readonly message: string
}> {}

/**
 * orchestrator answered with its envelope and `Code: "ERROR"` (whatever the HTTP status: like
 * orchestrator-client, the JSON decides), or with HTTP 401.
 */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly code: "ERROR"
  readonly message: string
  readonly details: unknown
  readonly status: number
  readonly url: string
}> {}

/** No complete answer within the deadline (headers and body). */
export class Timeout extends Data.TaggedError("Timeout")<{
  readonly url: string
  readonly millis: number
  readonly message: string
}> {}

/** The body is not JSON, or not the JSON the caller's schema expects. */
export class Decode extends Data.TaggedError("Decode")<{
  readonly url: string
  readonly status: number
  /** The first 512 characters of the body. */
  readonly body: string
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * The request did not get an HTTP answer (DNS, refused, reset, TLS...). `refused` is true when the
 * connection was refused, i.e. nothing was sent: the only transport failure after which a mutation
 * is known not to have been applied.
 */
export class Transport extends Data.TaggedError("Transport")<{
  readonly url: string
  readonly refused: boolean
  readonly message: string
  readonly cause?: unknown
}> {}

export type ClientError = NoLeader | ApiError | Timeout | Decode | Transport
