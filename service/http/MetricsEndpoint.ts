/**
 * `/metrics` in Prometheus text format: the product's Effect metrics (core/observability) plus
 * Node process metrics from prom-client (CPU, memory, event loop lag, GC, handles).
 */
import { Effect, Metric } from "effect"
import * as MetricState from "effect/MetricState"
import * as prom from "prom-client"

const registry = new prom.Registry()
prom.collectDefaultMetrics({ register: registry })

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")
const labels = (tags: ReadonlyArray<{ readonly key: string; readonly value: string }>, extra: Record<string, string> = {}) => {
  const all = [...tags.map((t) => [t.key, t.value] as const), ...Object.entries(extra)]
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`
}
const num = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN")

/** Renders Effect metrics; HELP/TYPE once per metric name, samples for every tag set. */
export const renderEffectMetrics = Effect.map(Metric.snapshot, (pairs) => {
  const byName = new Map<string, { help: string; type: string; lines: Array<string> }>()
  for (const { metricKey: k, metricState: s } of pairs) {
    const type = MetricState.isCounterState(s)
      ? "counter"
      : MetricState.isGaugeState(s)
      ? "gauge"
      : MetricState.isHistogramState(s)
      ? "histogram"
      : undefined
    if (type === undefined) continue
    const entry = byName.get(k.name) ?? { help: k.description._tag === "Some" ? k.description.value : k.name, type, lines: [] }
    byName.set(k.name, entry)
    const tags = [...k.tags]
    if (MetricState.isCounterState(s)) entry.lines.push(`${k.name}${labels(tags)} ${num(Number(s.count))}`)
    else if (MetricState.isGaugeState(s)) entry.lines.push(`${k.name}${labels(tags)} ${num(Number(s.value))}`)
    else if (MetricState.isHistogramState(s)) {
      for (const [le, n] of s.buckets) entry.lines.push(`${k.name}_bucket${labels(tags, { le: num(le) })} ${n}`)
      entry.lines.push(`${k.name}_sum${labels(tags)} ${num(s.sum)}`, `${k.name}_count${labels(tags)} ${s.count}`)
    }
  }
  return [...byName.entries()]
    .map(([name, e]) => [`# HELP ${name} ${e.help}`, `# TYPE ${name} ${e.type}`, ...e.lines].join("\n"))
    .join("\n") + "\n"
})

export const renderMetrics = Effect.gen(function*() {
  const own = yield* renderEffectMetrics
  const process = yield* Effect.promise(() => registry.metrics())
  return own + process
})

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
