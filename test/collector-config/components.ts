/**
 * Which Go module provides each component type a Collector config can name, by kind: the names the builds report
 * (`otelcol-observatory components`, held to this table by validate.test.ts) and the older names they still accept
 * (spanmetrics, resourcedetection, loadbalancing, otlp, otlphttp), which our configs use. Module paths without version.
 */
const CORE = 'go.opentelemetry.io/collector';
const CONTRIB = 'github.com/open-telemetry/opentelemetry-collector-contrib';

export const COMPONENT_KINDS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export const COMPONENT_MODULES: Record<ComponentKind, Record<string, string>> = {
  receivers: { otlp: `${CORE}/receiver/otlpreceiver` },
  processors: {
    memory_limiter: `${CORE}/processor/memorylimiterprocessor`,
    batch: `${CORE}/processor/batchprocessor`,
    resource: `${CONTRIB}/processor/resourceprocessor`,
    attributes: `${CONTRIB}/processor/attributesprocessor`,
    transform: `${CONTRIB}/processor/transformprocessor`,
    filter: `${CONTRIB}/processor/filterprocessor`,
    redaction: `${CONTRIB}/processor/redactionprocessor`,
    mask: 'github.com/observatory/otelcol-observatory/maskprocessor',
    resource_detection: `${CONTRIB}/processor/resourcedetectionprocessor`,
    resourcedetection: `${CONTRIB}/processor/resourcedetectionprocessor`,
    tail_sampling: `${CONTRIB}/processor/tailsamplingprocessor`,
  },
  exporters: {
    otlp_grpc: `${CORE}/exporter/otlpexporter`,
    otlp: `${CORE}/exporter/otlpexporter`,
    otlp_http: `${CORE}/exporter/otlphttpexporter`,
    otlphttp: `${CORE}/exporter/otlphttpexporter`,
    debug: `${CORE}/exporter/debugexporter`,
    prometheus: `${CONTRIB}/exporter/prometheusexporter`,
    awss3: `${CONTRIB}/exporter/awss3exporter`,
    load_balancing: `${CONTRIB}/exporter/loadbalancingexporter`,
    loadbalancing: `${CONTRIB}/exporter/loadbalancingexporter`,
  },
  connectors: {
    span_metrics: `${CONTRIB}/connector/spanmetricsconnector`,
    spanmetrics: `${CONTRIB}/connector/spanmetricsconnector`,
    forward: `${CORE}/connector/forwardconnector`,
  },
  extensions: {
    health_check: `${CONTRIB}/extension/healthcheckextension`,
    file_storage: `${CONTRIB}/extension/storage/filestorage`,
    bearertokenauth: `${CONTRIB}/extension/bearertokenauthextension`,
  },
};

/** A component's entry in a config (`otlp_grpc/jaeger`) or a build: its kind, type and module. */
export interface NamedComponent {
  kind: ComponentKind;
  /** As the config names it, `otlp_grpc/jaeger`. */
  id: string;
  /** The module that provides its type, or undefined for a type this table does not know. */
  module: string | undefined;
}

/** Every component a config defines (the Collector needs a factory for each, used in a pipeline or not). */
export function componentsNamed(config: Record<string, unknown>): NamedComponent[] {
  return COMPONENT_KINDS.flatMap((kind) =>
    Object.keys((config[kind] as Record<string, unknown> | undefined) ?? {}).map((id) => ({
      kind,
      id,
      module: COMPONENT_MODULES[kind][id.split('/')[0]!],
    })),
  );
}

/** An ocb manifest's modules by kind, each `path version`. */
export type ManifestModules = Record<ComponentKind, string[]>;

/** The `gomod` entries of an ocb manifest (already parsed), by kind. */
export function manifestModules(manifest: Record<string, unknown>): ManifestModules {
  return Object.fromEntries(
    COMPONENT_KINDS.map((kind) => [
      kind,
      ((manifest[kind] as { gomod: string }[] | undefined) ?? []).map((entry) => entry.gomod),
    ]),
  ) as ManifestModules;
}

/** A `path version` entry's path. */
export const modulePath = (gomod: string): string => gomod.split(' ')[0]!;
