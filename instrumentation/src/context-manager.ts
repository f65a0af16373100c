/**
 * The context manager: the upstream AsyncLocalStorage one, with a cheaper way to bind an EventEmitter.
 *
 * The http instrumentation binds every incoming request and response (and every outgoing request) to the request's
 * context, so that listeners the app adds run in it. Upstream does so by replacing eight methods of the emitter
 * with closures and wrapping every listener added afterwards in one more closure (its `length` redefined, and a
 * WeakMap per event to find it again on removal): a dozen allocations per request before the app runs. Here the
 * emitter's `emit` alone is replaced, once, and runs the listeners in the bound context: what listeners observe is
 * the same (every listener of a bound emitter runs in the context it was bound to; the first binding wins, as
 * upstream), listeners are stored as the app passed them (so `listeners()`, `off` and `once` need no mapping), and
 * a request costs one closure. An event nobody listens to is emitted without entering the context at all.
 */
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { EventEmitter } from 'node:events';

const BOUND = Symbol('observatory.boundContext');

type Bindable = EventEmitter & { [BOUND]?: Context };

export class ObservatoryContextManager extends AsyncLocalStorageContextManager {
  override bind<T>(context: Context, target: T): T {
    if (!(target instanceof EventEmitter)) return super.bind(context, target);
    const emitter = target as Bindable;
    if (emitter[BOUND] !== undefined) return target;
    emitter[BOUND] = context;
    const emit = emitter.emit;
    const run = (self: Bindable, event: string | symbol, args: unknown[]) =>
      this.with(context, emit, self, event, ...args);
    emitter.emit = function boundEmit(this: Bindable, event: string | symbol, ...args: unknown[]): boolean {
      // Most of a request's events (end, prefinish, finish, close) have no listener: nothing would run in the
      // context, so none is entered. 'error' always is: its errorMonitor listeners are not counted here.
      if (event !== 'error' && this.listenerCount(event) === 0) return emit.call(this, event, ...args);
      return run(this, event, args);
    } as EventEmitter['emit'];
    return target;
  }
}
