import Table from 'cli-table3';

/** `--json` prints the data for scripts; otherwise the human rendering. */
export function printResult(opts: { json?: boolean | undefined }, data: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

/** A plain table for people; `columns` picks and orders the fields shown. */
export function renderTable<T extends Record<string, unknown>>(
  rows: T[],
  columns: (keyof T & string)[],
): string {
  if (rows.length === 0) return '(none)';
  const table = new Table({ head: columns, style: { head: [], border: [] } });
  for (const row of rows) table.push(columns.map((c) => formatCell(row[c])));
  return table.toString();
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
