/**
 * What a handler returns, independent of the HTTP library: JSON (raw or an envelope) or text.
 * Rendering follows orchestrator: `application/json; charset=UTF-8`, Go-style escaping.
 */
import type { ApiResponse } from "../../core/api/Envelope.js"

export type Reply = (
  | { readonly _tag: "Json"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "Text"; readonly status: number; readonly body: string; readonly contentType: string }
  /** A response relayed as received (forwarding to the leader). */
  | { readonly _tag: "Raw"; readonly status: number; readonly body: Uint8Array; readonly contentType: string }
) & { readonly headers?: Readonly<Record<string, string>> }

export const json = (body: unknown, status = 200): Reply => ({ _tag: "Json", status, body })
/** An envelope answer: 200 for OK, 500 (orchestrator's status) for ERROR unless told otherwise. */
export const envelope = (body: ApiResponse, status?: number): Reply => ({
  _tag: "Json",
  status: status ?? (body.Code === "OK" ? 200 : 500),
  body
})
export const text = (body: string, status = 200, contentType = "text/plain; charset=utf-8"): Reply => ({
  _tag: "Text",
  status,
  body,
  contentType
})

export const JSON_CONTENT_TYPE = "application/json; charset=UTF-8"

/** orchestrator (martini) answers unknown paths with Go's text 404. */
export const notFound = text("404 page not found\n", 404)
