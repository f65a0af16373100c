/** The console API's documents that the browser pages read (the trace page reads trace/types.ts). */

export interface ServiceStats {
  /** Server (and consumer) spans per second over the window; null when Prometheus has no series. */
  request_rate: number | null;
  /** Share of those spans with error status. */
  error_rate: number | null;
  p95_ms: number | null;
}

export interface ServiceNode extends ServiceStats {
  service: string;
}

export interface ServiceEdge {
  from: string;
  to: string;
  /** Calls seen in span data (Jaeger's count, or the recent traces' parent/child pairs). */
  calls: number;
  /** The callee's server spans: every call into `to`, whoever made it. */
  callee: ServiceStats;
}

export interface ServiceMap {
  nodes: ServiceNode[];
  edges: ServiceEdge[];
  /**
   * Where the edges come from: Jaeger's dependency links together with each service's recent traces, or the traces
   * alone when Jaeger has no links.
   */
  source: 'jaeger-dependencies' | 'recent-traces';
  /** The PromQL range of the rates, e.g. 5m. */
  window: string;
  notes: string[];
}
