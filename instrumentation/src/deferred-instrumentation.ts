/**
 * A library instrumentation created when the app first loads its library (first-load.ts), not when the preload
 * starts: its package — and the copy of @opentelemetry/instrumentation, the semantic conventions and the require
 * hook each instrumentation package brings — is loaded only by a process that uses the library. Until then this
 * stands in for it: it keeps the providers and the configuration `registerInstrumentations` hands it, and gives them
 * to the real instrumentation when it is built, in the order the SDK would (created, then its providers set).
 */
import { diag, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Instrumentation, InstrumentationConfig } from '@opentelemetry/instrumentation';
import { whenFirstLoaded } from './first-load.ts';

type LoggerProvider = Parameters<NonNullable<Instrumentation['setLoggerProvider']>>[0];

export class DeferredInstrumentation implements Instrumentation {
  readonly instrumentationName: string;
  readonly instrumentationVersion = 'deferred';
  /** The packages whose first load builds it (what the instrumentation patches). */
  readonly packages: readonly string[];
  private readonly create: (config: InstrumentationConfig) => Instrumentation;
  private config: InstrumentationConfig;
  private tracerProvider: TracerProvider | undefined;
  private meterProvider: MeterProvider | undefined;
  private loggerProvider: LoggerProvider | undefined;
  private real: Instrumentation | undefined;
  private stopWatching: (() => void) | undefined;

  /**
   * @param instrumentationName the real instrumentation's name (`@opentelemetry/instrumentation-pg`)
   * @param packages the packages whose first load builds it (what the instrumentation patches)
   * @param create builds the real instrumentation, enabled, with this configuration
   */
  constructor(
    instrumentationName: string,
    packages: readonly string[],
    create: (config: InstrumentationConfig) => Instrumentation,
    config: InstrumentationConfig = {},
  ) {
    this.instrumentationName = instrumentationName;
    this.packages = packages;
    this.create = create;
    this.config = { enabled: true, ...config };
    // Enabled when created, as every instrumentation is (`registerInstrumentations` enables only disabled ones).
    if (this.config.enabled) this.enable();
  }

  /** Whether the library was loaded and the real instrumentation built. */
  get built(): boolean {
    return this.real !== undefined;
  }

  enable(): void {
    this.config = { ...this.config, enabled: true };
    if (this.real) return this.real.enable();
    this.stopWatching ??= whenFirstLoaded(this.packages, () => this.build());
  }

  disable(): void {
    this.config = { ...this.config, enabled: false };
    this.stopWatching?.();
    this.stopWatching = undefined;
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

  setLoggerProvider(provider: LoggerProvider): void {
    this.loggerProvider = provider;
    this.real?.setLoggerProvider?.(provider);
  }

  setConfig(config: InstrumentationConfig): void {
    this.config = { enabled: this.config.enabled, ...config };
    this.real?.setConfig(config);
  }

  getConfig(): InstrumentationConfig {
    return this.real?.getConfig() ?? this.config;
  }

  /** Runs inside the app's first load of the library: never throws, an unpatched library beats a failed load. */
  private build(): void {
    this.stopWatching = undefined;
    try {
      const real = this.create(this.config);
      if (this.tracerProvider) real.setTracerProvider(this.tracerProvider);
      if (this.meterProvider) real.setMeterProvider(this.meterProvider);
      if (this.loggerProvider) real.setLoggerProvider?.(this.loggerProvider);
      this.real = real;
    } catch (error) {
      diag.error(`${this.instrumentationName} could not be created`, error);
    }
  }
}
