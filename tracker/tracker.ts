/**
 * Business events as OpenTelemetry log records with `eventName` set. `track()` is on the request path, so it never
 * throws and never waits: it conforms the event against the registry, enriches it (UUIDv7 ID, time, schema
 * version; the SDK adds trace and span ID from the active context), and hands it to the SDK's batch processor.
 * An invalid event is not lost: it is emitted as a rejected record, and the lake keeps it in its rejected table.
 */
import { withTimeout } from '../common/async.ts';
import {
  diag,
  logs,
  metrics,
  SeverityNumber,
  type Attributes,
  type Counter,
  type Logger,
  type LoggerProvider,
} from '@opentelemetry/api';
import { flush as flushTelemetry, isStarted } from '../instrumentation/api.ts';
import { ATTRIBUTES, EVENT_ATTRIBUTES, METRICS } from '../common/names.ts';
import { ATTRIBUTE_VALUE_LIMIT, trackerConfig } from './config.ts';
import { Validators, type ValidationError } from './validators.ts';
import type { EventDefinition, EventRegistry, PropertiesOf } from './schema.ts';
import type { DropReason, RejectReason, TrackCounts, TrackerFlushResult, TrackerOptions } from './types.ts';
import { uuidv7 } from './uuidv7.ts';

const SCOPE = 'observatory.tracker';
const MAX_NAME_LENGTH = 128;
const WARN_INTERVAL_MS = 30_000;

/**
 * A Tracker for one event registry (`events`): `track()`'s names and property types come from it, at compile time
 * and at run time. Our services use ours (tracker/events/); a team passes its own, built with `defineEvents`.
 */
export class Tracker<E extends EventRegistry> {
  private readonly events: E;
  private readonly logger: Logger;
  private readonly counter: Counter;
  private readonly validators: Validators | undefined;
  private readonly maxEventBytes: number;
  private readonly timeoutMillis: number;
  private readonly injectedProvider: LoggerProvider | undefined;
  private readonly tally: TrackCounts = { accepted: 0, rejected: 0, dropped: 0 };
  private closed = false;
  private shutdownResult: Promise<TrackerFlushResult> | undefined;
  private lastWarning = 0;

  constructor(options: TrackerOptions & { events: E }) {
    this.events = options.events;
    const config = trackerConfig(options.env ?? process.env);
    this.maxEventBytes = options.maxEventBytes ?? config.maxEventBytes;
    this.timeoutMillis = options.timeoutMillis ?? config.timeoutMillis;
    this.injectedProvider = options.loggerProvider;
    this.logger = (options.loggerProvider ?? logs.getLoggerProvider()).getLogger(SCOPE);
    this.counter = (options.meterProvider ?? metrics.getMeterProvider())
      .getMeter(SCOPE)
      .createCounter(METRICS.events.name, {
        unit: METRICS.events.unit,
        description: 'Business events handled by the Tracker, by outcome',
      });
    this.validators = options.validate === false ? undefined : new Validators();
  }

  /**
   * Records one business event. Names and property types are checked by the compiler against the registry, and
   * again at run time; an invalid event becomes a rejected record, never an exception.
   */
  track<N extends keyof E & string>(name: N, properties: PropertiesOf<E[N]['schema']>): void {
    try {
      if (this.closed) return this.drop(name, 'shutdown');
      this.conformAndEmit(name, properties);
    } catch (error) {
      this.drop(name, 'internal_error', error);
    }
  }

  /** Exports what is buffered within `timeoutMillis`; resolves with counts, never rejects. */
  async flush(timeoutMillis: number = this.timeoutMillis): Promise<TrackerFlushResult> {
    try {
      if (!this.injectedProvider && isStarted()) {
        const result = await flushTelemetry(timeoutMillis);
        return this.result(result.completed, result.deliveries.logs);
      }
      const provider = (this.injectedProvider ?? logs.getLoggerProvider()) as {
        forceFlush?: () => Promise<void>;
      };
      const completed = await withTimeout(
        Promise.resolve(provider.forceFlush?.())
          .then(() => true)
          .catch(() => false),
        timeoutMillis,
        false,
      );
      return this.result(completed, undefined);
    } catch (error) {
      this.warn(`flush failed: ${describe(error)}`);
      return this.result(false, undefined);
    }
  }

  /**
   * Stops accepting events (later `track()` calls are dropped and counted) and flushes within the bound. It does
   * not shut the SDK down: the process' other telemetry goes on; the preload shuts the SDK down at exit.
   */
  shutdown(timeoutMillis: number = this.timeoutMillis): Promise<TrackerFlushResult> {
    this.closed = true;
    return (this.shutdownResult ??= this.flush(timeoutMillis));
  }

  /** What `track()` did so far. */
  counts(): TrackCounts {
    return { ...this.tally };
  }

  private conformAndEmit(name: string, properties: unknown): void {
    const definition = this.definition(name);
    if (!definition) {
      return this.reject(name, undefined, properties, 'unknown_event', [
        { path: '', message: `event ${JSON.stringify(name)} is not in the registry` },
      ]);
    }
    let serialized: string;
    try {
      serialized = JSON.stringify(properties) ?? 'undefined';
    } catch (error) {
      return this.reject(name, definition, properties, 'schema_violation', [
        { path: '/', message: `properties cannot be serialized as JSON: ${describe(error)}` },
      ]);
    }
    // A UTF-16 code unit is at most 3 UTF-8 bytes: most events are far below the limit, and need no exact count.
    const bytes =
      (serialized.length + name.length) * 3 <= this.maxEventBytes
        ? 0
        : Buffer.byteLength(serialized) + Buffer.byteLength(name);
    if (bytes > this.maxEventBytes) {
      return this.reject(name, definition, serialized, 'size_violation', [
        {
          path: '/',
          message: `the serialized event is ${bytes} bytes, over the limit of ${this.maxEventBytes}`,
        },
      ]);
    }
    if (this.validators) {
      const validation = this.validators.validate(definition, properties);
      if (!validation.valid) {
        return this.reject(
          name,
          definition,
          serialized,
          'schema_violation',
          validation.errors,
          validation.omitted,
        );
      }
    }
    this.logger.emit({
      eventName: name,
      timestamp: Date.now(),
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      // A copy: the record waits in the batch queue, and the caller may reuse its object.
      body: { ...(properties as Record<string, string | number | boolean>) },
      attributes: {
        [EVENT_ATTRIBUTES.id]: uuidv7(),
        [EVENT_ATTRIBUTES.schemaVersion]: definition.version,
      },
    });
    this.tally.accepted++;
    this.counter.add(1, { [ATTRIBUTES.eventName]: name, [ATTRIBUTES.outcome]: 'accepted' });
  }

  private reject(
    name: unknown,
    definition: EventDefinition | undefined,
    payload: unknown,
    reason: RejectReason,
    errors: ValidationError[],
    omitted = 0,
  ): void {
    const text = typeof payload === 'string' ? payload : safeStringify(payload);
    const attributes: Attributes = {
      [EVENT_ATTRIBUTES.id]: uuidv7(),
      [EVENT_ATTRIBUTES.rejectedReason]: reason,
      [EVENT_ATTRIBUTES.errors]: boundedErrors(errors, omitted),
      [EVENT_ATTRIBUTES.payload]: text.slice(0, ATTRIBUTE_VALUE_LIMIT),
      [EVENT_ATTRIBUTES.payloadTruncated]: text.length > ATTRIBUTE_VALUE_LIMIT,
    };
    if (definition) attributes[EVENT_ATTRIBUTES.schemaVersion] = definition.version;
    this.logger.emit({
      eventName: recordName(name),
      timestamp: Date.now(),
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      attributes,
    });
    this.tally.rejected++;
    this.counter.add(1, {
      // Unregistered names are not metric labels: a typo in a loop must not explode cardinality.
      [ATTRIBUTES.eventName]: definition ? definition.name : 'unknown',
      [ATTRIBUTES.outcome]: 'rejected',
      [ATTRIBUTES.reason]: reason,
    });
  }

  private drop(name: unknown, reason: DropReason, error?: unknown): void {
    try {
      this.tally.dropped++;
      const known = this.definition(name) ? (name as string) : 'unknown';
      this.counter.add(1, {
        [ATTRIBUTES.eventName]: known,
        [ATTRIBUTES.outcome]: 'dropped',
        [ATTRIBUTES.reason]: reason,
      });
      if (reason === 'internal_error') this.warn(`dropped event ${String(name)}: ${describe(error)}`);
    } catch {
      // The last line of defence of a call that must never throw.
    }
  }

  /** The version `track()` emits for `name`, or undefined when the name is not registered. */
  private definition(name: unknown): EventDefinition | undefined {
    return typeof name === 'string' && Object.hasOwn(this.events, name) ? this.events[name] : undefined;
  }

  private result(completed: boolean, delivery: TrackerFlushResult['logs']): TrackerFlushResult {
    return {
      completed,
      events: { ...this.tally },
      logs: delivery ? { ...delivery } : undefined,
      delivered: delivery?.delivered,
      dropped: this.tally.dropped + (delivery?.dropped ?? 0),
    };
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_INTERVAL_MS) return;
    this.lastWarning = now;
    diag.warn(`observatory tracker: ${message}`);
  }
}

/** The record's eventName for a rejected event: the caller's name where usable, so the bad call can be found. */
function recordName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') return '_invalid_name';
  return name.slice(0, MAX_NAME_LENGTH);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (error) {
    return `[not serializable: ${describe(error)}]`;
  }
}

/**
 * The errors as a JSON array that stays valid JSON under the attribute limit: whole entries are left out, and a last
 * entry counts them (with those the validator already left out). One pass over the entries, each serialized once.
 */
function boundedErrors(errors: ValidationError[], omitted: number): string {
  const entries = errors.map((error) => JSON.stringify(error));
  // Room for the brackets, and for the count entry should one be needed (its number at most 10 digits).
  const room = ATTRIBUTE_VALUE_LIMIT - 2 - moreErrors(1e10).length - 1;
  let length = 0;
  let kept = 0;
  while (kept < entries.length && length + entries[kept]!.length + 1 <= room) {
    length += entries[kept]!.length + 1;
    kept++;
  }
  const left = entries.length - kept + omitted;
  if (left === 0) return `[${entries.join(',')}]`;
  return `[${[...entries.slice(0, kept), moreErrors(left)].join(',')}]`;
}

function moreErrors(count: number): string {
  return JSON.stringify({ path: '', message: `${count} more errors left out` });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
