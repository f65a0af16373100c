/**
 * Counts what each signal handed to its exporter and what the exporter delivered, so drops are never silent:
 * a queue overflow, a failed export or a timeout all show as `offered - delivered` once the queue has drained.
 * Export failures warn (rate-limited) naming the signal and the error.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';

/**
 * What one pipeline's exporter carries, named by its items as `deliveries()` reports them (`dropped 3 spans`): the
 * traces, logs and metrics signals (instrumentation/src/config.ts, `OtelSignal`) counted in spans, log records and
 * metric exports.
 */
export type ExportKind = 'spans' | 'logs' | 'metrics';

export interface DeliveryCounts {
  /** Items handed to the SDK's processor (spans, log records) or export calls attempted (metrics). */
  offered: number;
  /** Items the exporter reported delivered. */
  delivered: number;
  /** Items in exports that failed (network, timeout, rejected). */
  failed: number;
}

const WARN_INTERVAL_MS = 30_000;

export class DeliveryCounter {
  private readonly counts: Record<ExportKind, DeliveryCounts> = {
    spans: { offered: 0, delivered: 0, failed: 0 },
    logs: { offered: 0, delivered: 0, failed: 0 },
    metrics: { offered: 0, delivered: 0, failed: 0 },
  };
  /** Warnings are rate-limited per signal, so a failing metrics export cannot hide dropped spans. */
  private readonly lastWarning: Record<ExportKind, number> = { spans: 0, logs: 0, metrics: 0 };
  private readonly suppressed: Record<ExportKind, number> = { spans: 0, logs: 0, metrics: 0 };

  offered(signal: ExportKind, count = 1): void {
    this.counts[signal].offered += count;
  }

  /** Wraps an exporter's result callback to count the outcome of one export of `count` items. */
  track(
    signal: ExportKind,
    count: number,
    done: (result: ExportResult) => void,
  ): (result: ExportResult) => void {
    return (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.counts[signal].delivered += count;
      else {
        this.counts[signal].failed += count;
        this.warn(signal, count, result.error);
      }
      done(result);
    };
  }

  snapshot(): Record<ExportKind, DeliveryCounts & { dropped: number }> {
    const view = (c: DeliveryCounts) => ({ ...c, dropped: Math.max(0, c.offered - c.delivered) });
    return {
      spans: view(this.counts.spans),
      logs: view(this.counts.logs),
      metrics: view(this.counts.metrics),
    };
  }

  private warn(signal: ExportKind, count: number, error: Error | undefined): void {
    const now = Date.now();
    if (now - this.lastWarning[signal] < WARN_INTERVAL_MS) {
      this.suppressed[signal]++;
      return;
    }
    const suppressed = this.suppressed[signal];
    const more =
      suppressed > 0 ? ` (${suppressed} more failed ${signal} exports since the last warning)` : '';
    this.lastWarning[signal] = now;
    this.suppressed[signal] = 0;
    diag.warn(
      `observatory: dropped ${count} ${signal}: export failed: ${error?.message ?? 'unknown error'}${more}; totals: ${JSON.stringify(this.snapshot())}`,
    );
  }
}
