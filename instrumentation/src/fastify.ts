/**
 * Fastify, through Fastify's own `@fastify/otel` (auto-instrumentations-node no longer carries one), loaded only when
 * the app creates its first Fastify instance. Fastify announces every new instance on the diagnostics channel
 * `fastify.initialization` (Fastify 4 and 5); subscribing costs nothing, so an app without Fastify never loads the
 * package. On the first announcement the instrumentation is built and its plugin applied to that instance, as
 * `@fastify/otel` does itself with `registerOnInitialization`, which cannot be used here: the channel's first message
 * has already gone by the time a lazily built instrumentation could subscribe.
 *
 * What it gives: the route on the HTTP server span (its name becomes `GET /scenes/:id`, `http.route` is set) and one
 * `request` span per request carrying the exception of a failed handler. Per-hook and handler spans are off, as
 * Express' per-layer spans are (they cost most of the framework's overhead and say little).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { diag, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Instrumentation, InstrumentationConfig } from '@opentelemetry/instrumentation';
import { FASTIFY_PACKAGE, loadPackage } from './lazy.ts';

const CHANNEL = 'fastify.initialization';

/** What `@fastify/otel` exports that we use: the instrumentation and its Fastify plugin. */
interface FastifyOtel extends Instrumentation {
  plugin(): (instance: FastifyInstance, options: undefined, done: () => void) => void;
}
interface FastifyInstance {
  register(plugin: unknown): unknown;
}
type FastifyOtelClass = new (config: Record<string, unknown>) => FastifyOtel;

/** Marks an instance as instrumented for `app.hasPlugin('@fastify/otel')`, as the package's own hook does. */
function marker(_instance: unknown, _options: unknown, done: () => void): void {
  done();
}
Object.assign(marker, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: FASTIFY_PACKAGE,
});

export class LazyFastifyInstrumentation implements Instrumentation {
  readonly instrumentationName = FASTIFY_PACKAGE;
  readonly instrumentationVersion = 'lazy';
  private config: InstrumentationConfig = { enabled: true };
  private tracerProvider: TracerProvider | undefined;
  private meterProvider: MeterProvider | undefined;
  private real: FastifyOtel | undefined;
  private readonly onInstance = (message: unknown) => this.instrument(message);

  /** Enabled when created, as every instrumentation is (`registerInstrumentations` enables only disabled ones). */
  constructor() {
    this.enable();
  }

  enable(): void {
    subscribe(CHANNEL, this.onInstance);
  }

  disable(): void {
    unsubscribe(CHANNEL, this.onInstance);
    this.real?.disable();
  }

  setTracerProvider(provider: TracerProvider): void {
    this.tracerProvider = provider;
    this.real?.setTracerProvider(provider);
  }

  setMeterProvider(provider: MeterProvider): void {
    this.meterProvider = provider;
    this.real?.setMeterProvider(provider);
  }

  setConfig(config: InstrumentationConfig): void {
    this.config = config;
  }

  getConfig(): InstrumentationConfig {
    return this.config;
  }

  /** The hot path never throws: a Fastify app without spans beats a Fastify app that does not start. */
  private instrument(message: unknown): void {
    const instance = (message as { fastify?: FastifyInstance } | undefined)?.fastify;
    if (!instance) return;
    try {
      const real = this.real ?? this.build();
      real.plugin()(instance, undefined, () => {});
      instance.register(marker);
    } catch (error) {
      diag.error(`${FASTIFY_PACKAGE} could not instrument a Fastify instance`, error);
    }
  }

  private build(): FastifyOtel {
    const exports = loadPackage<FastifyOtelClass & { FastifyOtelInstrumentation?: FastifyOtelClass }>(
      FASTIFY_PACKAGE,
    );
    const Class = exports.FastifyOtelInstrumentation ?? exports;
    const real = new Class({
      ...this.config,
      registerOnInitialization: false,
      instrumentHooks: false,
      instrumentHandler: false,
    });
    if (this.tracerProvider) real.setTracerProvider(this.tracerProvider);
    if (this.meterProvider) real.setMeterProvider(this.meterProvider);
    this.real = real;
    return real;
  }
}
