/**
 * A Collector that has received nothing yet stays up. The spanmetrics connector flushes an empty batch before the
 * first span arrives; the awss3 exporter indexes a batch's first resource, so an empty batch reaching it crashed the
 * Collector (index out of range) seconds after a fresh start. An isolated stack, flushing spanmetrics every second,
 * idles past several flushes with its Collector still healthy and no panic in its log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../common/poll.ts';
import { IsolatedTestStack } from '../support/isolated-stack.ts';

const isolated = new IsolatedTestStack(24700, { OBSERVATORY_SPANMETRICS_FLUSH_INTERVAL: '1s' });

beforeAll(async () => {
  await isolated.up();
}, 180_000);

afterAll(async () => {
  await isolated.down();
});

describe('an idle Collector', () => {
  it('stays healthy through several empty spanmetrics flushes, without a panic', async () => {
    const health = `http://127.0.0.1:${isolated.stack.config.collector.health}/`;
    const answers: number[] = [];
    for (let second = 0; second < 6; second++) {
      // The scenario, not a wait for a condition: time passing with no input, one 1 s spanmetrics flush after
      // another (the crash came seconds after a fresh start), the health endpoint asked after each.
      await sleep(1000);
      answers.push(
        await fetch(health).then(
          (r) => r.status,
          () => 0,
        ),
      );
    }
    const log = readFileSync(join(isolated.stack.config.stateDir, 'logs', 'collector.log'), 'utf8');
    expect(log).not.toContain('panic');
    expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
