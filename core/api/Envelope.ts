/**
 * orchestrator's response envelope (`APIResponse` in go/http/api.go): `{"Code","Message","Details"}`
 * with Code "OK" (HTTP 200) or "ERROR" (HTTP 500 by default), Details `null` when absent.
 */
import { Schema } from "effect"

export const ApiResponse = Schema.Struct({
  Code: Schema.Literal("OK", "ERROR"),
  Message: Schema.String,
  Details: Schema.NullOr(Schema.Unknown)
})
export type ApiResponse = typeof ApiResponse.Type

export const ok = (message: string, details: unknown = null): ApiResponse => ({ Code: "OK", Message: message, Details: details })
export const error = (message: string, details: unknown = null): ApiResponse => ({
  Code: "ERROR",
  Message: message,
  Details: details
})

/**
 * JSON text as Go's encoding/json writes it: `<`, `>` and `&` escaped as \u003c, \u003e, \u0026
 * (visible in topology strings; clients that compare bytes depend on it), plus U+2028/U+2029.
 */
export const goJson = (value: unknown): string =>
  JSON.stringify(value === undefined ? null : value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029")

/** The error a route raises to answer with an envelope; `status` defaults to orchestrator's 500. */
export class ApiFailure extends Schema.TaggedError<ApiFailure>()("ApiFailure", {
  message: Schema.String,
  details: Schema.optionalWith(Schema.Unknown, { default: () => null }),
  status: Schema.optionalWith(Schema.Number, { default: () => 500 })
}) {}
