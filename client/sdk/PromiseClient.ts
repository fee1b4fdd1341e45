/**
 * The Promise interface: the same client, each Effect run to a Promise that rejects with the
 * typed error itself (`ApiError`, `NoLeader`, ... — `err._tag` tells which), not a FiberFailure.
 */
import { Effect, Either, type Schema } from "effect"
import { type ClientOptions, make, type OrchestratorClientApi, type RequestOptions } from "./Client.js"
import type { ClientError } from "./Errors.js"
import type { Envelope } from "./Shapes.js"

export const run = <A>(effect: Effect.Effect<A, ClientError>): Promise<A> =>
  Effect.runPromise(Effect.either(effect)).then((e) => (Either.isLeft(e) ? Promise.reject(e.left) : e.right))

type Promisified<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer Args) => Effect.Effect<infer A, infer _E, never>
    ? (...args: Args) => Promise<A>
    : T[K] extends Effect.Effect<infer A, infer _E, never> ? () => Promise<A>
    : T[K]
}

export type PromiseClient =
  & Omit<Promisified<OrchestratorClientApi>, "get" | "envelope">
  & {
    readonly get: <A = unknown, I = unknown>(
      path: string,
      schema?: Schema.Schema<A, I>,
      options?: RequestOptions
    ) => Promise<A>
    readonly envelope: <A = unknown, I = unknown>(
      path: string,
      details?: Schema.Schema<A, I>,
      options?: RequestOptions
    ) => Promise<Envelope<A>>
    /** The Effect client underneath. */
    readonly effect: OrchestratorClientApi
  }

const isEffect = (u: unknown): u is Effect.Effect<unknown, ClientError> => Effect.isEffect(u)

export const makePromiseClient = (options: ClientOptions): PromiseClient => {
  const client = Effect.runSync(make(options))
  const out: Record<string, unknown> = { effect: client }
  for (const [name, value] of Object.entries(client)) {
    if (isEffect(value)) out[name] = () => run(value)
    else if (typeof value === "function") {
      out[name] = (...args: Array<unknown>) => {
        const result: unknown = Reflect.apply(value, client, args)
        return isEffect(result) ? run(result) : result
      }
    } else out[name] = value
  }
  return out as unknown as PromiseClient
}
