/** The decoded configuration as a service, so nothing reads a global (orchestrator's `config.Config` habit). */
import { Context, Layer } from "effect"
import type { OrchestratorConfig } from "./OrchestratorConfig.js"

export class AppConfig extends Context.Tag("orchestrator/AppConfig")<AppConfig, OrchestratorConfig>() {}

export const layer = (config: OrchestratorConfig) => Layer.succeed(AppConfig, config)
