/**
 * Loads a package when it is needed rather than when the preload starts: its ES build, synchronously (require of an
 * ES module), so that it shares the SDK modules the preload already loaded instead of bringing CommonJS copies.
 * The preload runs before the app, inside `--require`: it cannot await an `import()`.
 *
 * Those packages are named here, once: no import names them, so the builds that must ship them (the installable
 * package, packages/build.ts; the Lambda bundle, deploy/aws/etl/build.ts) read the list through
 * instrumentation/lazy-packages.ts. A bundle has no node_modules to load from: it registers the packages it holds
 * under `BUNDLED_PACKAGES` before the preload runs, and those are used instead.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { OTEL_SIGNALS, type OtelSignal } from './config.ts';

const require = createRequire(import.meta.url);

export const BUNDLED_PACKAGES = Symbol.for('observatory.bundledPackages');

type WithBundled = typeof globalThis & { [BUNDLED_PACKAGES]?: Record<string, unknown> };

export function loadPackage<T>(specifier: string): T {
  const bundled = (globalThis as WithBundled)[BUNDLED_PACKAGES]?.[specifier];
  if (bundled !== undefined) return bundled as T;
  return require(fileURLToPath(import.meta.resolve(specifier))) as T;
}

/** The flavours of the OTLP exporter packages: gRPC, HTTP with JSON, HTTP with protobuf. */
export type OtlpFlavour = 'grpc' | 'http' | 'proto';
export const OTLP_FLAVOURS: readonly OtlpFlavour[] = ['grpc', 'http', 'proto'];

/** The OTLP exporter package of a signal and flavour (the packages name the traces signal `trace`). */
export function otlpExporterPackage(signal: OtelSignal, flavour: OtlpFlavour): string {
  return `@opentelemetry/exporter-${signal === 'traces' ? 'trace' : signal}-otlp-${flavour}`;
}

/** The OTLP exporter packages of every signal in the given flavours. */
export function otlpExporterPackages(flavours: readonly OtlpFlavour[] = OTLP_FLAVOURS): string[] {
  return OTEL_SIGNALS.flatMap((signal) => flavours.map((flavour) => otlpExporterPackage(signal, flavour)));
}

/** A library instrumentation's package, by the short name the variables use (`http`, `aws-sdk`). */
export function instrumentationPackage(name: string): string {
  return `@opentelemetry/instrumentation-${name}`;
}

/** Loaded when `OTEL_PROPAGATORS` names `b3` or `b3multi`. */
export const B3_PROPAGATOR_PACKAGE = '@opentelemetry/propagator-b3';

/**
 * Loaded for its cloud resource detectors when `OTEL_NODE_RESOURCE_DETECTORS` is set; it also depends on every
 * library instrumentation, so whoever installs it has them all.
 */
export const AUTO_INSTRUMENTATIONS_PACKAGE = '@opentelemetry/auto-instrumentations-node';

/** Fastify's own instrumentation, loaded when the app creates its first Fastify instance (fastify.ts). */
export const FASTIFY_PACKAGE = '@fastify/otel';

/**
 * Every package the preload may load by name, for an installation that can choose any configuration: the OTLP
 * exporters in every flavour, the B3 propagator, auto-instrumentations-node (with the library instrumentations) and
 * Fastify's instrumentation.
 */
export function lazyPackages(): string[] {
  return [...otlpExporterPackages(), B3_PROPAGATOR_PACKAGE, AUTO_INSTRUMENTATIONS_PACKAGE, FASTIFY_PACKAGE];
}
