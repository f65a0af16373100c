/** Every business event the ETL records goes through here, so switching the sink is a one-line change. */
import { logger } from '../instrumentation/api.ts';

export interface EtlEvents {
  job_started: { job_id: string; kind: string; n_chunks: number };
  job_finished: {
    job_id: string;
    kind: string;
    status: 'done' | 'partial' | 'failed';
    n_chunks: number;
    n_failed: number;
    duration_ms: number;
    cost_usd: number;
  };
  tile_processed: {
    job_id: string;
    tile_id: string;
    date: string;
    ndvi_mean: number;
    ndvi_p10: number;
    ndvi_p90: number;
    n_pixels: number;
  };
}

export function trackEtl<E extends keyof EtlEvents>(name: E, properties: EtlEvents[E]): void {
  logger.info({ event: name, properties }, `event ${name}`);
}
