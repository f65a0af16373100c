/**
 * Every business event the demo services record goes through here: one Tracker per process, on the telemetry the
 * preload started. Event names and property types come from the registry in tracker/events/.
 */
import { Tracker } from '../../tracker/index.ts';

export const tracker = new Tracker();
export const track: Tracker['track'] = (name, properties) => tracker.track(name, properties);
