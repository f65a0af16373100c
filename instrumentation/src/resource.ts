/**
 * The service information every span, metric and log record carries. Our defaults (stage, namespace, name and
 * version from package.json, commit) are the base resource; the detectors sdk.ts runs, as the NodeSDK would
 * (OTEL_NODE_RESOURCE_DETECTORS, the env detector with OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES among them),
 * override them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { InstrumentationConfig } from './config.ts';

/** The service information alone (no detectors that resolve asynchronously): for log lines and enrichment. */
export function serviceAttributes(
  config: InstrumentationConfig,
  entry: string | undefined = process.argv[1],
) {
  const identity: Record<string, string> = {
    ...defaultAttributes(config, entry),
    ...fromEnvironment(config),
  };
  const pick: Record<string, string> = {};
  for (const key of SERVICE_KEYS) {
    const value = identity[key];
    if (value !== undefined) pick[key] = value;
  }
  return pick;
}

const SERVICE_KEYS = [
  'service.name',
  'service.version',
  'service.namespace',
  'deployment.environment.name',
  'vcs.ref.head.revision',
] as const;

/** The SDK's defaults with ours on top; sdk.ts merges the detected attributes over this. */
export function baseResource(
  config: InstrumentationConfig,
  entry: string | undefined = process.argv[1],
): Resource {
  return defaultResource().merge(resourceFromAttributes(defaultAttributes(config, entry)));
}

/** What the `env` detector will add: for log lines, which are written before the detectors have run. */
function fromEnvironment(config: InstrumentationConfig): Record<string, string> {
  const attributes = { ...config.resourceAttributes };
  if (config.serviceName) attributes['service.name'] = config.serviceName;
  return attributes;
}

function defaultAttributes(config: InstrumentationConfig, entry: string | undefined): Record<string, string> {
  const app = findPackageJson(entry ? dirname(resolve(entry)) : process.cwd());
  const defaults: Record<string, string> = {
    'service.namespace': config.serviceNamespace,
    'deployment.environment.name': config.stage,
  };
  if (app?.name) defaults['service.name'] = app.name;
  const version = config.serviceVersion ?? app?.version;
  if (version) defaults['service.version'] = version;
  if (config.commit) defaults['vcs.ref.head.revision'] = config.commit;
  return defaults;
}

/** The nearest package.json above the app's entry file: the app's name and version. */
function findPackageJson(start: string): { name?: string; version?: string } | undefined {
  let dir = start;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as {
          name?: string;
          version?: string;
        };
        return { name, version };
      } catch {
        return undefined;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
