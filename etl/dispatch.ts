/**
 * How a chunk reaches a worker: one interface, so the listener does not care where workers run. Locally the fleet
 * runner (processes on this machine); on AWS an SQS queue with a dead-letter queue in front of the Lambda function
 * (deploy/aws/etl/template.yaml), whose messages carry the same ChunkEvent, trace context included.
 */
import type { EtlConfig } from './config.ts';
import type { FunctionName } from './types.ts';
import { Fleet, type FleetStats } from './runtime/fleet.ts';
import type { ChunkEvent, InvocationResult } from './types.ts';

/** Called with every attempt's outcome, by a dispatcher that retries by itself. */
export type AttemptListener = (result: InvocationResult, attempt: number) => void;

export interface Dispatcher {
  /**
   * True when the transport retries failed attempts itself (SQS redelivery): then one `invoke` covers every attempt
   * of a chunk and resolves with the final one; otherwise the listener retries.
   */
  readonly retriesItself?: boolean;
  invoke(
    functionName: FunctionName,
    event: ChunkEvent,
    onAttempt?: AttemptListener,
  ): Promise<InvocationResult>;
  /** How many more chunks of `functionName` may be dispatched before its queue is full. */
  room(functionName: FunctionName): number;
  stats(): Record<string, FleetStats>;
  close(): Promise<void>;
}

export class LocalFleetDispatcher implements Dispatcher {
  private readonly fleets = new Map<FunctionName, Fleet>();
  private readonly config: EtlConfig;
  private readonly env: Record<string, string | undefined>;

  constructor(config: EtlConfig, env: Record<string, string | undefined>) {
    this.config = config;
    this.env = env;
  }

  invoke(functionName: FunctionName, event: ChunkEvent): Promise<InvocationResult> {
    return this.fleet(functionName).invoke(event);
  }

  room(functionName: FunctionName): number {
    return this.fleet(functionName).room();
  }

  private fleet(functionName: FunctionName): Fleet {
    let fleet = this.fleets.get(functionName);
    if (!fleet) {
      // Compactions over the same partition must not run at once (both could write the same late event): one
      // sandbox for that function.
      const config = functionName === 'compaction' ? { ...this.config, concurrency: 1 } : this.config;
      fleet = new Fleet(functionName, config, this.env);
      this.fleets.set(functionName, fleet);
    }
    return fleet;
  }

  stats(): Record<string, FleetStats> {
    return Object.fromEntries([...this.fleets].map(([name, fleet]) => [name, fleet.stats()]));
  }

  async close(): Promise<void> {
    await Promise.all([...this.fleets.values()].map((fleet) => fleet.close()));
  }
}
