/**
 * "Show as table" under a chart: its data as an HTML table with a caption and header cells. Closed,
 * it costs nothing; open, it follows the run at most once a second, like the text alternative of a
 * chart out of view.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { LabState, LabStore } from '../state/store';
import type { ChartTable as Table } from './chartTables';

const REFRESH_MS = 1000;

export function ChartTable({ store, label, table }: { store: LabStore; label: string; table: (state: LabState) => Table }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [data, setData] = useState<Table | null>(null);
  // The chart passes a new function at every render; the data it reads comes from the store.
  const tableRef = useRef(table);
  tableRef.current = table;
  useEffect(() => {
    if (!open) return;
    setData(tableRef.current(store.getState()));
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = store.subscribe(() => {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        setData(tableRef.current(store.getState()));
      }, REFRESH_MS);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
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
