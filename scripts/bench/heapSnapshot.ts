/**
 * What a V8 heap snapshot (HeapProfiler.takeHeapSnapshot's JSON) says about a thread's
 * WebAssembly memories. Pure, so it is tested on a snapshot written by hand.
 *
 * The format is flat: `nodes` holds `node_fields.length` numbers a node, `edges` holds
 * `edge_fields.length` numbers an edge, a node's edges follow those of the nodes before it, and
 * an edge's target is the index of that node's first number in `nodes`.
 */

export interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Edge types whose `name_or_index` names a string; the others (element, hidden) count. */
const NAMED_EDGES = new Set(['context', 'property', 'internal', 'shortcut', 'weak']);

/**
 * The byte length of every WebAssembly.Memory in the snapshot: an object whose `__proto__` is
 * WebAssembly.Memory.prototype holds its ArrayBuffer, whose `backing_store` is as large as the buffer.
 */
export function wasmMemoryByteLengths(heap: HeapSnapshot): number[] {
  const { meta } = heap.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const [typeField, nameField, sizeField, edgeCountField] = ['type', 'name', 'self_size', 'edge_count'].map((field) => meta.node_fields.indexOf(field));
  const [edgeTypeField, edgeNameField, edgeToField] = ['type', 'name_or_index', 'to_node'].map((field) => meta.edge_fields.indexOf(field));
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];

  const firstEdge = new Map<number, number>();
  for (let node = 0, edge = 0; node < heap.nodes.length; node += nodeWidth) {
    firstEdge.set(node, edge);
    edge += heap.nodes[node + edgeCountField] * edgeWidth;
  }
  const name = (node: number) => heap.strings[heap.nodes[node + nameField]];
  const edgesOf = (node: number) => {
    const start = firstEdge.get(node) ?? 0;
    return Array.from({ length: heap.nodes[node + edgeCountField] }, (_, i) => {
      const at = start + i * edgeWidth;
      const type = edgeTypes[heap.edges[at + edgeTypeField]];
      const label = heap.edges[at + edgeNameField];
      return { name: NAMED_EDGES.has(type) ? heap.strings[label] : String(label), to: heap.edges[at + edgeToField] };
    });
  };

  const lengths: number[] = [];
  for (let node = 0; node < heap.nodes.length; node += nodeWidth) {
    if (nodeTypes[heap.nodes[node + typeField]] !== 'object') continue;
    const edges = edgesOf(node);
    if (!edges.some((edge) => edge.name === '__proto__' && name(edge.to) === 'WebAssembly.Memory')) continue;
    const buffer = edges.find((edge) => name(edge.to) === 'ArrayBuffer');
    const store = buffer && edgesOf(buffer.to).find((edge) => edge.name === 'backing_store');
    lengths.push(store ? heap.nodes[store.to + sizeField] : 0);
  }
  return lengths;
}
