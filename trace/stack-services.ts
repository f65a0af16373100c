/**
 * The stack's own services, kept out of every list of the application's services: the console's services, traces
 * list and service map, and `observatory trace --last`. The stack's components send no traces of their own
 * (deploy/local/jaeger.yaml turns Jaeger's query tracing off), but until they did not, Jaeger traced its own HTTP
 * routes as the service `jaeger`, and a Jaeger configured with a lasting store (Badger, OpenSearch:
 * OBSERVATORY_JAEGER_CONFIG) keeps those traces for its retention: such a store still lists that service for a while.
 * This is the one place that knows the name.
 */
const STACK_SERVICES: ReadonlySet<string> = new Set(['jaeger']);

/** Whether a service name is one of the stack's own rather than the application's. */
export function isStackService(service: string): boolean {
  return STACK_SERVICES.has(service);
}

/** The application's services among these, in their order: the stack's own left out. */
export function applicationServices(services: readonly string[]): string[] {
  return services.filter((service) => !isStackService(service));
}
