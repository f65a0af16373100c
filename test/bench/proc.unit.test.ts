/**
 * The soak's split of a process's resident memory (bench/lib/proc.ts residentParts), read from this process's own
 * /proc/<pid>/smaps: the parts add up to its RSS, what a thread mallocs lands in glibc's arenas, and V8's heap pages
 * stay counted after a collection has emptied them (V8 keeps them in its page pool until a memory-reducing
 * collection), which is how the soak tells V8's pooled pages from a leak.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../common/paths.ts';
import { residentParts, statusMiB } from '../../bench/lib/proc.ts';

/** test/support/fixtures/v8-burst.mjs: a burst of short-lived objects, collected as V8 collects on its own. */
const BURST = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'fixtures', 'v8-burst.mjs')).href;

describe('residentParts', () => {
  it('splits the RSS into glibc heaps, V8 pages, other anonymous memory and mapped files that add up to it', () => {
    const parts = residentParts(process.pid)!;
    const rss = statusMiB(process.pid, 'VmRSS')!;
    const sum = parts.brk + parts.arenas + parts.v8Pages + parts.anon + parts.file;
    // What is left out: the kernel's few special mappings ([vdso], [vvar]), and pages touched between the two reads.
    expect(Math.abs(sum - rss)).toBeLessThan(4);
    expect(parts.file).toBeGreaterThan(10); // node itself and its libraries
    expect(parts.brk).toBeGreaterThan(0);
  });

  it('puts what a worker thread mallocs in small pieces under glibc arenas, and nothing under mapped files', async () => {
    const before = residentParts(process.pid)!;
    // 2 000 Buffers of 16 KiB, each from malloc (below glibc's mmap threshold), in a thread of its own: glibc gives a
    // new thread an arena other than the main heap (unless MALLOC_ARENA_MAX=1, which this test's process does not set).
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const held = Array.from({ length: 2000 }, () => Buffer.allocUnsafeSlow(16 * 1024).fill(1));
       parentPort.postMessage(held.length);
       setInterval(() => held, 1000);`,
      { eval: true },
    );
    try {
      await new Promise((resolve) => worker.once('message', resolve));
      const after = residentParts(process.pid)!;
      expect(process.env.MALLOC_ARENA_MAX).not.toBe('1');
      expect(after.arenas - before.arenas).toBeGreaterThan(25);
      expect(after.file - before.file).toBeLessThan(8);
    } finally {
      await worker.terminate();
    }
  });

  it('counts V8 heap pages that a collection has emptied, which V8 keeps in its pool and no longer reports', async () => {
    const before = residentParts(process.pid)!;
    // In a thread of its own, so that the measured isolate is a fresh one: ≈ 100 MiB of short-lived objects.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       import(${JSON.stringify(BURST)}).then(async ({ burstAndCollect }) => parentPort.postMessage(await burstAndCollect()));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    try {
      const { during, after } = await new Promise<{ during: number; after: number }>((resolve) =>
        worker.once('message', resolve),
      );
      const now = residentParts(process.pid)!;
      expect(during - after).toBeGreaterThan(50);
      // V8 reports the heap shrunk by more than 50 MiB; the pages stay resident, in 256 KiB mappings.
      expect(now.v8Pages - before.v8Pages).toBeGreaterThan(50);
    } finally {
      await worker.terminate();
    }
  });
});
