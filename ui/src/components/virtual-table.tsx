import { useEffect, useRef, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

export interface Column<T> {
  readonly key: string;
  readonly title: ReactNode;
  readonly cell: (row: T) => ReactNode;
}

interface Props<T> {
  readonly label: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T, index: number) => string;
  /** Height of the scrolling box in pixels. */
  readonly height?: number;
  readonly rowHeight?: number;
  /** Called when the last rows come into view (to fetch the next page). */
  readonly onEnd?: () => void;
}

/**
 * A table that renders only the rows in view (plus a few), so ten thousand rows scroll as
 * lightly as fifty. It stays a real <table>: spacer rows stand for the rows not drawn, and
 * aria-rowcount/aria-rowindex tell assistive technology where each drawn row is.
 */
export function VirtualTable<T>({ label, columns, rows, rowKey, height = 520, rowHeight = 31, onEnd }: Props<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer's functions are read during render by design
  const v = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 12 });
  const items = v.getVirtualItems();
  const last = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (onEnd && rows.length > 0 && last >= rows.length - 5) onEnd();
  }, [last, rows.length, onEnd]);
  const top = items[0]?.start ?? 0;
  const bottom = v.getTotalSize() - (items.at(-1)?.end ?? 0);
  const spacer = (h: number, key: string) => (h > 0 ? <tr key={key} aria-hidden="true" className="spacer"><td colSpan={columns.length} style={{ height: h, padding: 0, border: 0 }} /></tr> : null);
  return (
    <div className="virtual" ref={scroller} style={{ maxHeight: height }} tabIndex={0} role="region" aria-label={`${label}, scrollable`}>
      <table aria-label={label} aria-rowcount={rows.length + 1}>
        <thead><tr aria-rowindex={1}>{columns.map((c) => <th key={c.key}>{c.title}</th>)}</tr></thead>
        <tbody>
          {spacer(top, 'top')}
          {items.map((it) => {
            const row = rows[it.index]!;
            return (
              <tr key={rowKey(row, it.index)} aria-rowindex={it.index + 2} style={{ height: rowHeight }}>
                {columns.map((c) => <td key={c.key}>{c.cell(row)}</td>)}
              </tr>
            );
          })}
          {spacer(bottom, 'bottom')}
        </tbody>
      </table>
    </div>
  );
}
