/**
 * The context manager's EventEmitter binding: every listener of a bound emitter runs in the bound context, whatever
 * context emits; the first binding wins; listeners are kept as added, so removal, `once` and `listeners()` behave
 * as without binding; functions are bound as upstream binds them.
 */
import { EventEmitter, errorMonitor } from 'node:events';
import { createContextKey, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ObservatoryContextManager } from '../../instrumentation/src/context-manager.ts';

const KEY = createContextKey('test');
const contextOf = (value: string): Context => ROOT_CONTEXT.setValue(KEY, value);

describe('the context manager', () => {
  const manager = new ObservatoryContextManager().enable();
  const seen = () => manager.active().getValue(KEY);

  it('runs every listener of a bound emitter in the bound context, whatever context emits', () => {
    const emitter = new EventEmitter();
    const calls: unknown[] = [];
    emitter.on('data', () => calls.push(['before', seen()]));
    manager.bind(contextOf('request'), emitter);
    emitter.on('data', (chunk: string) => calls.push(['after', chunk, seen()]));
    manager.with(contextOf('elsewhere'), () => emitter.emit('data', 'x'));
    emitter.emit('data', 'y');
    expect(calls).toEqual([
      ['before', 'request'],
      ['after', 'x', 'request'],
      ['before', 'request'],
      ['after', 'y', 'request'],
    ]);
  });

  it('keeps the first binding, as upstream does', () => {
    const emitter = new EventEmitter();
    manager.bind(contextOf('first'), emitter);
    manager.bind(contextOf('second'), emitter);
    let value: unknown;
    emitter.on('end', () => (value = seen()));
    emitter.emit('end');
    expect(value).toBe('first');
  });

  it('keeps listeners as they were added: removal, once and listeners() are unchanged', () => {
    const emitter = new EventEmitter();
    manager.bind(contextOf('request'), emitter);
    let count = 0;
    const listener = () => count++;
    emitter.on('tick', listener);
    expect(emitter.listeners('tick')).toEqual([listener]);
    emitter.off('tick', listener);
    emitter.emit('tick');
    expect(count).toBe(0);
    const once: unknown[] = [];
    emitter.once('tick', () => once.push(seen()));
    emitter.emit('tick');
    emitter.emit('tick');
    expect(once).toEqual(['request']);
    emitter.on('tick', listener);
    emitter.removeAllListeners('tick');
    emitter.emit('tick');
    expect(count).toBe(0);
  });

  it('returns what emit returns, and passes errors through', () => {
    const emitter = new EventEmitter();
    manager.bind(contextOf('request'), emitter);
    expect(emitter.emit('nobody')).toBe(false);
    emitter.on('boom', () => {
      throw new Error('listener failed');
    });
    expect(() => emitter.emit('boom')).toThrow('listener failed');
  });

  it('runs errorMonitor listeners of an unhandled error in the bound context before the error is thrown', () => {
    const emitter = new EventEmitter();
    manager.bind(contextOf('request'), emitter);
    let monitored: unknown;
    emitter.on(errorMonitor, () => (monitored = seen()));
    expect(() =>
      manager.with(contextOf('elsewhere'), () => emitter.emit('error', new Error('unhandled'))),
    ).toThrow('unhandled');
    expect(monitored).toBe('request');
  });

  it('binds functions to the context, as upstream does', () => {
    const bound = manager.bind(contextOf('fn'), function (this: unknown, a: number, b: number) {
      return [seen(), a + b];
    });
    expect(bound(1, 2)).toEqual(['fn', 3]);
    expect(bound.length).toBe(2);
  });
});
