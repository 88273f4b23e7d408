import { useEffect, useState } from 'react';
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import ELK from 'elkjs/lib/elk.bundled.js';
import '@xyflow/react/dist/style.css';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  /** Lines under the label (the assets a step writes). */
  readonly detail: readonly string[];
  /** A status word that colours the node; null when there is none yet. */
  readonly status: string | null;
  /** The node the page is about, drawn heavier. */
  readonly focus?: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
}

const elk = new ELK();
const WIDTH = 220;
const lineHeight = 18;
const heightOf = (n: GraphNode) => 44 + n.detail.length * lineHeight;

type FlowNode = Node<{ node: GraphNode; onOpen?: (id: string) => void }, 'step'>;

function StepNode({ data }: NodeProps<FlowNode>) {
  const { node, onOpen } = data;
  return (
    <div className={`graph-node status-border-${node.status ?? 'none'}${node.focus ? ' focus' : ''}`} style={{ width: WIDTH }}>
      <Handle type="target" position={Position.Left} />
      <button type="button" className="graph-node-title" onClick={() => onOpen?.(node.id)}>
        {node.label}
        {node.status ? <span className={`status status-${node.status}`} aria-hidden="true">{node.status === 'no_data' ? 'no data' : node.status}</span> : null}
      </button>
      {node.detail.map((d) => <div key={d} className="graph-node-detail">{d}</div>)}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

/**
 * A DAG laid out by ELK (layered, left to right) and drawn by React Flow: zoomable, pannable,
 * each node a button named by its label. The layout is ELK's; nothing here places nodes.
 */
export default function DagGraph({ nodes, edges, label, onOpen }: { nodes: readonly GraphNode[]; edges: readonly GraphEdge[]; label: string; onOpen?: (id: string) => void }) {
  const [laid, setLaid] = useState<{ nodes: FlowNode[]; edges: Edge[] } | null>(null);
  useEffect(() => {
    let live = true;
    void elk
      .layout({
        id: 'root',
        layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.spacing.nodeNode': '24', 'elk.layered.spacing.nodeNodeBetweenLayers': '60' },
        children: nodes.map((n) => ({ id: n.id, width: WIDTH, height: heightOf(n) })),
        edges: edges.map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
      })
      .then((g) => {
        if (!live) return;
        const at = new Map((g.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]));
        setLaid({
          nodes: nodes.map((n) => ({ id: n.id, type: 'step', position: at.get(n.id) ?? { x: 0, y: 0 }, data: { node: n, onOpen }, draggable: false, connectable: false })),
          edges: edges.map((e, i) => ({ id: `e${i}`, source: e.from, target: e.to, animated: nodes.find((n) => n.id === e.from)?.status === 'running' })),
        });
      });
    return () => {
      live = false;
    };
  }, [nodes, edges, onOpen]);
  return (
    <div className="graph" role="group" aria-label={label}>
      {laid ? (
        <ReactFlow nodes={laid.nodes} edges={laid.edges} nodeTypes={nodeTypes} fitView minZoom={0.2} nodesConnectable={false} proOptions={{ hideAttribution: true }}>
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      ) : <p>Laying out…</p>}
    </div>
  );
}
