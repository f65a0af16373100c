/**
 * Every business event the demo services record goes through here, so switching the sink is a one-line change.
 */
import { logger } from '../../instrumentation/api.ts';

export interface DemoEvents {
  search_made: { query: string; n_results: number; user_id: string };
  image_downloaded: { user_id: string; img_id: string; image_size: number };
  user_created: { user_id: string; plan?: string };
}

export function track<E extends keyof DemoEvents>(name: E, properties: DemoEvents[E]): void {
  logger.info({ event: name, properties }, `event ${name}`);
}
