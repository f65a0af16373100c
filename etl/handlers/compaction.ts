/**
 * The lake-compaction worker: one chunk is a batch of raw event objects, compacted into curated Parquet by the lake's
 * transform (lake/compact.ts). Idempotent: compacted objects carry a manifest marker and rows are deduplicated by
 * event ID, so a retried chunk changes nothing.
 */
import { trace } from '@opentelemetry/api';
import { compact, type CompactionResult } from '../../lake/index.ts';
import type { Handler } from '../types.ts';

export interface CompactionPayload {
  keys: string[];
}

export const handler: Handler<
  CompactionPayload,
  Omit<CompactionResult, 'files'> & { files: number }
> = async (event) => {
  const result = await compact(event.payload.keys);
  trace.getActiveSpan()?.setAttributes({
    'lake.objects': result.objects,
    'lake.records': result.records,
    'lake.events': result.events,
    'lake.rejected': result.rejected,
    'lake.duplicates': result.duplicates,
  });
  return { ...result, files: result.files.length };
};
