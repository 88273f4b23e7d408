import { useMemo } from 'react';
import { VirtualTable, type Column } from './virtual-table';

export type Row = Record<string, unknown>;

/** A warehouse value as text: null as empty, arrays and maps as JSON. */
export const cellText = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** RFC 4180 CSV of the rows, with a header line. */
export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
  const cell = (v: unknown) => {
    const s = cellText(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n');
}

/** Saves the rows as a CSV file through the browser's download. */
export function downloadCsv(name: string, columns: readonly string[], rows: readonly Row[]): void {
  const url = URL.createObjectURL(new Blob([toCsv(columns, rows)], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** Warehouse rows in a virtualized table whose headers carry the column types. */
export function RowTable({ label, columns, rows, onEnd }: { label: string; columns: readonly { name: string; type: string }[]; rows: readonly Row[]; onEnd?: () => void }) {
  const cols = useMemo<Column<Row>[]>(() => columns.map((c) => ({
    key: c.name,
    title: <>{c.name} <span className="hint">{c.type}</span></>,
    cell: (r) => cellText(r[c.name]),
  })), [columns]);
  return <VirtualTable label={label} columns={cols} rows={rows} rowKey={(_, i) => String(i)} onEnd={onEnd} />;
}
