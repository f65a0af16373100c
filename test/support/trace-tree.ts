/** Jaeger traces as trees: parent→child edges labelled with service, span kind and name, for exact assertions. */
import { tag, type JaegerSpan, type JaegerTrace } from './backends.ts';

export interface Node {
  span: JaegerSpan;
  service: string;
  kind: string;
  name: string;
  children: Node[];
}

export function tree(trace: JaegerTrace): Node[] {
  const nodes = new Map<string, Node>();
  for (const span of trace.spans) {
    nodes.set(span.spanID, {
      span,
      service: trace.processes[span.processID]!.serviceName,
      kind: String(tag(span, 'span.kind') ?? 'internal'),
      name: span.operationName,
      children: [],
    });
  }
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
    const parentNode = parent ? nodes.get(parent) : undefined;
    if (parentNode) parentNode.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: Node, b: Node) =>
    (a.span as unknown as { startTime: number }).startTime -
    (b.span as unknown as { startTime: number }).startTime;
  for (const node of nodes.values()) node.children.sort(byStart);
  return roots.sort(byStart);
}

/** `service kind name` lines, indented by depth: a readable, exact picture of a trace's shape. */
export function outline(nodes: Node[], depth = 0): string[] {
  return nodes.flatMap((node) => [
    `${'  '.repeat(depth)}${node.service} ${node.kind} ${node.name}`,
    ...outline(node.children, depth + 1),
  ]);
}

export function find(nodes: Node[], predicate: (node: Node) => boolean): Node[] {
  return nodes.flatMap((node) => [...(predicate(node) ? [node] : []), ...find(node.children, predicate)]);
}
