/**
 * "Show as table" under a chart: its data as an HTML table with a caption and header cells. Closed,
 * it costs nothing; open, it follows the run at the text clock's ticks, once a second, like the charts'
 * text alternatives.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { LabState, LabStore } from '../state/store';
import type { ChartTable as Table } from './chartTables';
import { atNextTick, cancelTick, TEXT_TICK_MS } from './paintScheduler';

export function ChartTable({ store, label, table }: { store: LabStore; label: string; table: (state: LabState) => Table }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [data, setData] = useState<Table | null>(null);
  // The chart passes a new function at every render; the data it reads comes from the store.
  const tableRef = useRef(table);
  tableRef.current = table;
  useEffect(() => {
    if (!open) return;
    const refresh = () => setData(tableRef.current(store.getState()));
    refresh();
    const unsubscribe = store.subscribe(() => atNextTick(refresh, TEXT_TICK_MS));
    return () => {
      unsubscribe();
      cancelTick(refresh);
    };
  }, [open, store]);
  const toggle = open ? 'Hide table' : 'Show as table';
  return (
    <div className="chart-table">
      {/* The name starts with the visible words, so speech input ("click Show as table") finds it. */}
      <button type="button" className="table-toggle" aria-expanded={open} aria-controls={id} aria-label={`${toggle}: ${label}`} onClick={() => setOpen(!open)}>
        {toggle}
      </button>
      {open && data && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region takes focus so keyboard users can scroll it (axe's scrollable-region-focusable)
        <div id={id} className="table-scroll" tabIndex={0} role="region" aria-label={`Table: ${data.caption}`}>
          <table>
            <caption>{data.caption}</caption>
            <thead>
              <tr>
                {data.columns.map((column) => (
                  <th key={column} scope="col">
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.rows.map((row) => (
                <tr key={row[0]}>
                  <th scope="row">{row[0]}</th>
                  {row.slice(1).map((cell, i) => (
                    <td key={i}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
