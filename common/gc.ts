/**
 * A full garbage collection on demand, for the few places that must bound memory V8 does not see as pressing: the
 * external memory (Buffers) of a thread that allocates few objects of its own is only collected once ≈ 64 MB of it
 * piled up. `--expose-gc` is set at run time (V8 reads it when a context is created, so a fresh context's `gc` is
 * the real one); no command-line flag is needed.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
