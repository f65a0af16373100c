/**
 * The demo's fault header is a knob for the demo, not for any caller: ignored unless the demo enabled it, and its
 * latency capped just past the downstream timeout, after which the caller has given up anyway.
 */
import { describe, expect, it } from 'vitest';
import { demoConfig } from '../../services/config.ts';
import { faultsFor } from '../../services/lib/service.ts';

const config = (env: Record<string, string> = {}) =>
  demoConfig({ OBSERVATORY_DOWNSTREAM_TIMEOUT_MS: '2000', ...env });

describe('The fault header', () => {
  it('is ignored unless OBSERVATORY_DEMO_FAULT_HEADER is true', () => {
    expect(config().faultHeader).toBe(false);
    expect(faultsFor('catalog', 'catalog:error,catalog:latency=900', config())).toEqual({
      latencyMs: 0,
      errorRate: 0,
    });
    expect(faultsFor('catalog', 'catalog:error', config({ OBSERVATORY_DEMO_FAULT_HEADER: 'false' }))).toEqual(
      {
        latencyMs: 0,
        errorRate: 0,
      },
    );
  });

  it('fails or delays the named service when enabled, and leaves the others alone', () => {
    const enabled = config({ OBSERVATORY_DEMO_FAULT_HEADER: 'true' });
    expect(faultsFor('catalog', 'catalog:error', enabled)).toEqual({ latencyMs: 0, errorRate: 1 });
    expect(faultsFor('users', 'catalog:error, users:latency=300', enabled)).toEqual({
      latencyMs: 300,
      errorRate: 0,
    });
    expect(faultsFor('downloads', 'catalog:error', enabled)).toEqual({ latencyMs: 0, errorRate: 0 });
  });

  it('caps the latency it asks for just past the downstream timeout', () => {
    const enabled = config({ OBSERVATORY_DEMO_FAULT_HEADER: 'true' });
    expect(enabled.faultLatencyCapMs).toBe(3000);
    expect(faultsFor('catalog', 'catalog:latency=86400000', enabled)).toEqual({
      latencyMs: 3000,
      errorRate: 0,
    });
  });

  it('keeps the configured faults of the service, header or not', () => {
    const configured = config({
      OBSERVATORY_CATALOG_LATENCY_MS: '50',
      OBSERVATORY_CATALOG_ERROR_RATE: '0.5',
    });
    expect(faultsFor('catalog', 'catalog:error', configured)).toEqual({ latencyMs: 50, errorRate: 0.5 });
  });
});
