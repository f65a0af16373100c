/**
 * The soak's split of a process's resident memory (bench/lib/proc.ts residentParts), read from this process's own
 * /proc/<pid>/smaps: the parts add up to its RSS, and memory a thread of glibc allocates lands where it is said to.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { residentParts, statusMiB } from '../../bench/lib/proc.ts';

describe('residentParts', () => {
  it('splits the RSS into glibc heaps, other anonymous memory and mapped files that add up to it', () => {
    const parts = residentParts(process.pid)!;
    const rss = statusMiB(process.pid, 'VmRSS')!;
    const sum = parts.brk + parts.arenas + parts.anon + parts.file;
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
});
