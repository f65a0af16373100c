/**
 * Copies allow-listed W3C baggage entries (e.g. `user.id`, `session.id`) onto every span started under them, so a
 * value set once at the edge is searchable on every hop's spans. Only listed keys: baggage is caller-controlled input.
 */
import { propagation, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

export class BaggageSpanProcessor implements SpanProcessor {
  private readonly keys: readonly string[];

  constructor(keys: readonly string[]) {
    this.keys = keys;
  }

  onStart(span: Span, parentContext: Context): void {
    const baggage = propagation.getBaggage(parentContext);
    if (!baggage) return;
    for (const key of this.keys) {
      const entry = baggage.getEntry(key);
      if (entry) span.setAttribute(key, entry.value);
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
