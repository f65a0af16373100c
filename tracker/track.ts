/**
 * Every business event Observatory's own services and ETL record goes through here: one Tracker per process, on the
 * telemetry the preload started (created at import, after the preload registered its providers). Event names and
 * property types come from our registry in tracker/events/; a team builds its own Tracker on its own registry.
 */
import { EVENTS } from './events/index.ts';
import { Tracker } from './tracker.ts';

const tracker = new Tracker({ events: EVENTS });

export const track: Tracker<typeof EVENTS>['track'] = (name, properties) => tracker.track(name, properties);
