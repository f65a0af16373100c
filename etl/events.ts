/**
 * Every business event the ETL records goes through here: one Tracker per process (listener or sandbox), on the
 * telemetry the preload started. Event names and property types come from the registry in tracker/events/.
 */
import { Tracker } from '../tracker/index.ts';

export const tracker = new Tracker();
export const trackEtl: Tracker['track'] = (name, properties) => tracker.track(name, properties);
