/**
 * The service map's edges: Jaeger's dependency links merged with the calls found in each service's recent traces
 * (Jaeger's Badger store derives its links from at most 100 traces, so a burst of one kind of trace hides the rest).
 */
import { describe, expect, it } from 'vitest';
import { mergeLinks } from '../../console/service-map.ts';

describe('mergeLinks', () => {
  it('adds the calls only recent traces show to the dependency links', () => {
    const merged = mergeLinks(
      [{ parent: 'etl-listener', child: 'etl-worker', callCount: 400 }],
      [
        { parent: 'gateway', child: 'catalog', callCount: 12 },
        { parent: 'etl-listener', child: 'etl-worker', callCount: 30 },
      ],
    );
    expect(merged.map((l) => [l.parent, l.child, l.callCount, l.fromDependencies])).toEqual([
      ['gateway', 'catalog', 12, false],
      ['etl-listener', 'etl-worker', 400, true],
    ]);
  });

  it("leaves out a service's calls to itself and Jaeger's own spans", () => {
    const merged = mergeLinks(
      [
        { parent: 'jaeger', child: 'jaeger', callCount: 5 },
        { parent: 'gateway', child: 'gateway', callCount: 9 },
      ],
      [{ parent: 'jaeger', child: 'catalog', callCount: 1 }],
    );
    expect(merged).toEqual([]);
  });

  it('is the traces alone when Jaeger has no links', () => {
    const merged = mergeLinks([], [{ parent: 'gateway', child: 'users', callCount: 3 }]);
    expect(merged).toEqual([{ parent: 'gateway', child: 'users', callCount: 3, fromDependencies: false }]);
  });
});
