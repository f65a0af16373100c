/** The Tracker's defaults, read from the environment when a Tracker is built (empty = unset; bad values warn). */
import { shutdownTimeoutMs } from '../common/config.ts';
import { readInteger, type Env } from '../common/env.ts';

export interface TrackerConfig {
  maxEventBytes: number;
  timeoutMillis: number;
}

export function trackerConfig(env: Env = process.env): TrackerConfig {
  return {
    maxEventBytes: readInteger(env, 'OBSERVATORY_TRACKER_MAX_EVENT_BYTES', 32 * 1024, { min: 256 }),
    timeoutMillis: shutdownTimeoutMs(env),
  };
}

/**
 * The Collector's conform step truncates string attribute values to this many characters; the tracker truncates
 * the payload of a rejected event to it itself, so that what it records is what arrives.
 */
export const ATTRIBUTE_VALUE_LIMIT = 4096;
