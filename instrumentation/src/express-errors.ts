/**
 * The exception of a failed Express handler, recorded on the request's span. Express' instrumentation records it
 * only on the per-layer spans, which the preload turns off (they cost most of Express' overhead), so a 500 was an
 * error span without the error. An error that leaves a router unhandled passes through the callback of
 * `router.handle` (Express 5's `router` package, Express 4's own router) on its way to Express' final handler: that
 * callback is wrapped once per router call, and the error recorded once on the span active there — the server span,
 * as no layer span is open. An app's own error-handling middleware takes the error before that: the app decides.
 */
import { trace } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';

type Handle = (this: unknown, req: unknown, res: unknown, callback: (error?: unknown) => void) => unknown;
interface WithHandle {
  handle: Handle;
}

/** Errors already recorded, so that one passing out of nested routers is recorded once. */
const recorded = new WeakSet<object>();

function record(error: unknown): void {
  if (typeof error !== 'object' || error === null || recorded.has(error)) return;
  recorded.add(error);
  trace.getActiveSpan()?.recordException(error as Error);
}

export class ExpressErrorsInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('observatory-express-errors', '1.0.0', config);
  }

  protected init() {
    const patch = <T extends WithHandle>(target: T): T => {
      if (!isWrapped(target.handle)) this._wrap(target, 'handle', wrapHandle);
      return target;
    };
    const unpatch = <T extends WithHandle>(target: T): void => this._unwrap(target, 'handle');
    return [
      // Express 5 routes through the `router` package.
      new InstrumentationNodeModuleDefinition(
        'router',
        ['>=2.0.0 <3'],
        (exports: { prototype: WithHandle }) => (patch(exports.prototype), exports),
        (exports: { prototype: WithHandle } | undefined) => exports && unpatch(exports.prototype),
      ),
      // Express 4's router is its own: the exported function is every router's prototype.
      new InstrumentationNodeModuleDefinition('express', ['>=4.0.0 <5'], undefined, undefined, [
        new InstrumentationNodeModuleFile(
          'express/lib/router/index.js',
          ['>=4.0.0 <5'],
          (exports: WithHandle) => patch(exports),
          (exports: WithHandle | undefined) => exports && unpatch(exports),
        ),
      ]),
    ];
  }
}

function wrapHandle(original: Handle): Handle {
  return function handle(this: unknown, req, res, callback) {
    if (typeof callback !== 'function') return original.call(this, req, res, callback);
    return original.call(this, req, res, (error?: unknown) => {
      if (error && error !== 'route' && error !== 'router') record(error);
      return callback(error);
    });
  };
}
