import { describe, expect, it } from 'vitest';
import { wasmMemoryByteLengths, type HeapSnapshot } from './heapSnapshot';

const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native'];
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];

/** A snapshot of the given nodes, in V8's flat layout: [type, name, id, self_size, edge_count] a node. */
function snapshot(nodes: { type: string; name: string; size: number; edges: [string, string | number, number][] }[]): HeapSnapshot {
  const strings: string[] = [];
  const text = (value: string) => (strings.includes(value) ? strings.indexOf(value) : strings.push(value) - 1);
  return {
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
        node_types: [NODE_TYPES],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [EDGE_TYPES],
      },
    },
    nodes: nodes.flatMap((node, i) => [NODE_TYPES.indexOf(node.type), text(node.name), i * 2 + 1, node.size, node.edges.length]),
    edges: nodes.flatMap((node) => node.edges.flatMap(([type, name, to]) => [EDGE_TYPES.indexOf(type), typeof name === 'string' ? text(name) : name, to * 5])),
    strings,
  };
}

describe('wasmMemoryByteLengths', () => {
  it('gives the backing store of each WebAssembly.Memory instance, not of other ArrayBuffers nor of objects merely named Memory', () => {
    const heap = snapshot([
      /* 0 */ { type: 'object', name: 'WebAssembly.Memory', size: 28, edges: [] },
      /* 1 */ {
        type: 'object',
        name: 'Memory',
        size: 32,
        edges: [
          ['property', '__proto__', 0],
          ['hidden', 2, 2],
        ],
      },
      /* 2 */ { type: 'object', name: 'ArrayBuffer', size: 52, edges: [['internal', 'backing_store', 3]] },
      /* 3 */ { type: 'native', name: 'system / JSArrayBufferData', size: 26_083_328, edges: [] },
      /* 4 */ {
        type: 'object',
        name: 'Memory',
        size: 32,
        edges: [
          ['property', '__proto__', 0],
          ['hidden', 2, 5],
        ],
      },
      /* 5 */ { type: 'object', name: 'ArrayBuffer', size: 52, edges: [['internal', 'backing_store', 6]] },
      /* 6 */ { type: 'native', name: 'system / JSArrayBufferData', size: 16_777_216, edges: [] },
      // A class of the page's own called Memory, holding an ArrayBuffer: not a wasm memory.
      /* 7 */ { type: 'object', name: 'Object', size: 28, edges: [] },
      /* 8 */ {
        type: 'object',
        name: 'Memory',
        size: 32,
        edges: [
          ['property', '__proto__', 7],
          ['property', 'buffer', 9],
        ],
      },
      /* 9 */ { type: 'object', name: 'ArrayBuffer', size: 52, edges: [['internal', 'backing_store', 10]] },
      /* 10 */ { type: 'native', name: 'system / JSArrayBufferData', size: 4096, edges: [] },
    ]);
    expect(wasmMemoryByteLengths(heap)).toEqual([26_083_328, 16_777_216]);
  });

  it('finds none in a heap without WebAssembly memories', () => {
    expect(wasmMemoryByteLengths(snapshot([{ type: 'object', name: 'Object', size: 28, edges: [] }]))).toEqual([]);
  });
});
