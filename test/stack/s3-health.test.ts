/**
 * The local S3 store's health check reads the bucket's top folder only. Without the delimiter `/` the store walks
 * every object of the bucket and reads each one's metadata (it ignores max-keys): after an hour of the demo's lake
 * the check took past its time, and `observatory demo` on that stack waited 90 s for a store that was running
 * (the soak's run 18).
 */
import { describe, expect, it } from 'vitest';
import type { Binaries } from '../../stack/build.ts';
import { componentSpecs } from '../../stack/components.ts';
import { stackConfig } from '../../stack/config.ts';
import { putObject, stackEndpoints } from '../support/backends.ts';

describe('The local S3 store’s health check', () => {
  it('answers from the bucket’s top folder, listing no object below it', async () => {
    const config = stackConfig();
    expect(config.s3.bucket).toBe(stackEndpoints().s3.bucket);
    const none = { collector: '', jaeger: '', s3: '', prometheus: '', sqs: { java: '', classpath: '' } };
    const spec = componentSpecs(config, none satisfies Binaries).find((c) => c.name === 's3')!;
    await putObject(`s3-health/deeper/${Date.now()}.json`, '{}');

    const response = await fetch(spec.healthUrl);
    const body = await response.text();
    expect(response.status).toBe(200);
    // Folders come back as common prefixes; no key below the top folder is read.
    expect(body).toMatch(/<CommonPrefixes>\s*<Prefix>s3-health\/<\/Prefix>/);
    expect(body).not.toMatch(/<Key>[^<]*\/[^<]*<\/Key>/);
  });
});
