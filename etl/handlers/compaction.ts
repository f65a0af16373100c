/**
 * The lake-compaction worker: one chunk is a batch of raw objects of one signal and one arrival hour, compacted into
 * curated Parquet by the lake's transform (lake/compact.ts). Idempotent: compacted objects carry a manifest marker
 * and rows are deduplicated by key, so a retried chunk changes nothing. The span reports rows in/out and the
 * duplicates dropped.
 */
import { trace } from '@opentelemetry/api';
import { compact, type CompactionResult, type LakeSignal } from '../../lake/index.ts';
import type { Handler } from '../types.ts';

export interface CompactionPayload {
  /** The signal of every key (the listener plans one signal and one hour per chunk). */
  signal?: LakeSignal;
  /** The arrival-hour folder the keys are in. */
  hour?: string;
  keys: string[];
}

export const handler: Handler<
  CompactionPayload,
  Omit<CompactionResult, 'files'> & { files: number }
> = async (event) => {
  const result = await compact(event.payload.keys);
  const span = trace.getActiveSpan();
  span?.setAttributes({
    'lake.objects': result.objects,
    // Objects a marker says were compacted already (by another run, or an earlier attempt of this chunk).
    'lake.skipped': result.skipped,
    'lake.records': result.records,
    'lake.events': result.events,
    'lake.rejected': result.rejected,
    'lake.duplicates': result.duplicates,
    'lake.failed_objects': result.failed.length,
  });
  if (event.payload.signal) {
    const stats = result.signals[event.payload.signal];
    span?.setAttributes({
      'lake.signal': event.payload.signal,
      'lake.rows_in': stats.rowsIn,
      'lake.rows_out': stats.rowsOut,
    });
  }
  return { ...result, files: result.files.length };
};
