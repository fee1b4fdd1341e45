/**
 * Schemas for path and query parameters. Each carries a message naming the expected form, so a
 * malformed value becomes a 400 envelope like `port: expected a port number (1-65535), got "99999"`.
 */
import { Schema } from "effect"

const expect = <A, I, R>(schema: Schema.Schema<A, I, R>, expected: string) =>
  schema.annotations({ message: () => ({ message: `expected ${expected}`, override: true }) })

/** A TCP port in a path: 1..65535, digits only. */
export const PortParam = expect(
  Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 65535)),
  "a port number (1-65535)"
).pipe((s) => Schema.compose(expect(Schema.String.pipe(Schema.pattern(/^[0-9]{1,5}$/)), "a port number (1-65535)"), s))

/** A hostname or IP in a path; never empty, no whitespace. */
export const HostParam = expect(Schema.String.pipe(Schema.pattern(/^[^\s/]{1,255}$/)), "a hostname")

/** An HTTP status code for `leader-check/:errorStatusCode` (orchestrator crashes outside 100..999; we answer 400). */
export const StatusCodeParam = expect(
  Schema.compose(
    Schema.String.pipe(Schema.pattern(/^[0-9]{3}$/)),
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(100, 599))
  ),
  "an HTTP status code (100-599)"
)

/** Any non-empty path segment (cluster hints, owners, reasons, tag names...). */
export const TextParam = expect(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)), "a non-empty value")

/** A promotion rule accepted by register-candidate (orchestrator refuses `must` as "not supported yet"). */
export const PromotionRuleParam = expect(
  Schema.Literal("prefer", "neutral", "prefer_not", "must_not"),
  "one of prefer, neutral, prefer_not, must_not"
)

/** A positive integer id (maintenance key, recovery id). */
export const IdParam = expect(
  Schema.compose(Schema.String.pipe(Schema.pattern(/^[0-9]{1,15}$/)), Schema.NumberFromString.pipe(Schema.int())),
  "a positive integer"
)

/** A non-negative integer of at most 9 digits (delay-replication seconds). */
export const CountParam = expect(
  Schema.compose(Schema.String.pipe(Schema.pattern(/^[0-9]{1,9}$/)), Schema.NumberFromString.pipe(Schema.int())),
  "a non-negative integer"
)

/** host + port, the instance key of most routes. */
export const InstanceParams = { host: HostParam, port: PortParam }
