/**
 * Test and demo faults, requested in a job spec (`fault`) and carried in the chunk event: fail the first N attempts
 * of a chunk by throwing, hanging until the timeout, or killing the process. The listener accepts them only with
 * OBSERVATORY_ETL_ALLOW_FAULTS; the Lambda entry point honours them only with the same switch in its own environment,
 * so a deployed function never obeys a fault a queue message asks for.
 */
import type { ChunkEvent } from '../types.ts';

export async function injectFault(event: ChunkEvent): Promise<void> {
  const fault = event.fault;
  if (!fault || event.attempt > fault.attempts) return;
  if (fault.kind === 'throw')
    throw new Error(`injected fault: chunk ${event.chunk_index} attempt ${event.attempt}`);
  if (fault.kind === 'crash') process.kill(process.pid, 'SIGKILL');
  if (fault.kind === 'hang') await new Promise(() => {});
}
