/** The orchestrator-ts SDK: a typed, runtime-neutral client of orchestrator's HTTP API. */
export * from "./Client.js"
export * from "./Errors.js"
export * from "./Paths.js"
export * from "./PromiseClient.js"
export * from "./Shapes.js"
