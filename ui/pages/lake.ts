/**
 * /lake: read-only SQL over the lake's curated tables (DuckDB views `events`, `rejected`, `logs`, `metrics` and
 * `spans`), each listed with its columns and types as the engine's catalog has them (a click puts a name into the
 * editor), with examples to click, a result table and a JSON download. The server refuses anything but one SELECT or WITH query, reads at most
 * `max_rows` rows and stops a query at its time limit; a new query (or leaving the page) cancels the one running. The
 * CLI's text equivalent is `observatory lake query "<sql>" [--json]`.
 */
import { ApiFailure, getJson, postJson } from '../lib/api.ts';
import { h, message, replace } from '../lib/dom.ts';

interface LakeResult {
  columns: string[];
  types: string[];
  rows: Record<string, unknown>[];
  row_count: number;
  /** The server's cap: a result with more rows is cut there (`truncated`). */
  max_rows: number;
  truncated: boolean;
  elapsed_ms: number;
}

interface LakeTables {
  tables: { name: string; columns: { name: string; type: string }[] }[];
}

const EXAMPLES: [string, string][] = [
  [
    'Events by name',
    'SELECT event_name, count(*) AS events, count(DISTINCT trace_id) AS traces\nFROM events\nGROUP BY 1\nORDER BY 2 DESC',
  ],
  [
    'Newest events',
    'SELECT event_time, event_name, service_name, trace_id\nFROM events\nORDER BY event_time DESC\nLIMIT 20',
  ],
  [
    'Searches per hour',
    "SELECT date_trunc('hour', event_time) AS hour, count(*) AS searches\nFROM events\nWHERE event_name = 'search_made'\nGROUP BY 1\nORDER BY 1",
  ],
  [
    'Rejected events by reason',
    'SELECT reason, event_name, count(*) AS rows\nFROM rejected\nGROUP BY 1, 2\nORDER BY 3 DESC',
  ],
  ['Columns of events', 'SELECT column_name, data_type\nFROM (DESCRIBE events)'],
];

export async function lakePage(root: HTMLElement): Promise<void> {
  const params = new URLSearchParams(location.search);
  const editor = h('textarea', { name: 'sql', rows: 6, spellcheck: 'false', 'aria-label': 'SQL query' });
  editor.value = params.get('sql') ?? EXAMPLES[0]![1];
  const run = h('button', { type: 'submit' }, 'Run');
  const download = h('button', { type: 'button', disabled: true }, 'Download JSON');
  const output = h('div', { id: 'lake-result' });
  const hint = h(
    'span',
    { class: 'muted', id: 'lake-hint' },
    "Read-only: one SELECT or WITH query over the lake's tables.",
  );
  const tables = h(
    'aside',
    { class: 'lake-tables', id: 'lake-tables', 'aria-label': 'tables and columns' },
    h('p', { class: 'loading' }, 'Reading the tables…'),
  );
  const form = h('form', { class: 'lake-form' }, editor, h('div', { class: 'toolbar' }, run, download, hint));
  let last: LakeResult | undefined;
  let running: AbortController | undefined;

  const execute = async () => {
    // The server interrupts a query whose request is aborted: an example clicked mid-query replaces it.
    running?.abort();
    const mine = new AbortController();
    running = mine;
    run.setAttribute('disabled', '');
    replace(output, h('p', { class: 'loading' }, 'Running…'));
    root.dataset.state = 'running';
    history.replaceState(null, '', `/lake?${new URLSearchParams({ sql: editor.value })}`);
    try {
      last = await postJson<LakeResult>('/api/lake/query', { sql: editor.value }, mine.signal);
      replace(output, resultTable(last));
      download.removeAttribute('disabled');
      root.dataset.state = 'loaded';
    } catch (error) {
      if (mine.signal.aborted) return;
      last = undefined;
      download.setAttribute('disabled', '');
      replace(output, message('error', (error as ApiFailure).message));
      root.dataset.state = 'error';
    } finally {
      if (running === mine) run.removeAttribute('disabled');
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void execute();
  });
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void execute();
  });
  download.addEventListener('click', () => {
    if (!last) return;
    const blob = new Blob([`${JSON.stringify(last.rows, null, 2)}\n`], { type: 'application/json' });
    const link = h('a', { href: URL.createObjectURL(blob), download: 'lake-query.json' });
    link.click();
    URL.revokeObjectURL(link.href);
  });
  replace(
    root,
    h('h1', {}, 'Lake'),
    h('p', { class: 'muted' }, 'SQL over the curated zone (Parquet, compacted by the ETL job) with DuckDB.'),
    h(
      'div',
      { class: 'examples' },
      h('span', {}, 'Examples: '),
      EXAMPLES.map(([label, sql]) =>
        h(
          'button',
          {
            type: 'button',
            class: 'example',
            onclick: () => {
              editor.value = sql;
              void execute();
            },
          },
          label,
        ),
      ),
    ),
    h('div', { class: 'lake-layout' }, h('div', { class: 'lake-main' }, form, output), tables),
  );
  await Promise.all([execute(), listTables(tables, hint, editor)]);
}

/** The tables and their columns from the engine (GET /api/lake/tables); a click inserts a name at the cursor. */
async function listTables(panel: HTMLElement, hint: HTMLElement, editor: HTMLTextAreaElement): Promise<void> {
  let answer: LakeTables;
  try {
    answer = await getJson<LakeTables>('/api/lake/tables');
  } catch (error) {
    replace(panel, message('error', `Tables: ${(error as ApiFailure).message}`));
    return;
  }
  const names = answer.tables.map((t) => t.name);
  hint.textContent = `Read-only: one SELECT or WITH query over the tables ${names.slice(0, -1).join(', ')} and ${names.at(-1)}.`;
  const insert = (text: string) => {
    const { selectionStart, selectionEnd, value } = editor;
    editor.value = value.slice(0, selectionStart) + text + value.slice(selectionEnd);
    editor.focus();
    editor.setSelectionRange(selectionStart + text.length, selectionStart + text.length);
  };
  replace(
    panel,
    h('h2', {}, 'Tables'),
    h('p', { class: 'muted' }, 'Click a name to insert it into the query.'),
    answer.tables.map((table) =>
      h(
        'details',
        { class: 'lake-table', 'data-table': table.name, open: table.name === 'events' },
        h(
          'summary',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'insert table-name',
              // Inside <summary>, a click would also fold the list: the name is what was asked for.
              onclick: (event: Event) => {
                event.preventDefault();
                insert(table.name);
              },
            },
            table.name,
          ),
          h('span', { class: 'muted' }, ` ${table.columns.length} columns`),
        ),
        h(
          'ul',
          { class: 'columns' },
          table.columns.map((column) =>
            h(
              'li',
              { 'data-column': column.name, 'data-type': column.type },
              h(
                'button',
                { type: 'button', class: 'insert', onclick: () => insert(column.name) },
                column.name,
              ),
              ' ',
              h('span', { class: 'type' }, column.type),
            ),
          ),
        ),
      ),
    ),
  );
  panel.dataset.state = 'loaded';
}

function resultTable(result: LakeResult): HTMLElement {
  const cell = (column: string, value: unknown) => {
    if (value === null || value === undefined) return h('td', { class: 'null' }, 'NULL');
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (/trace_id$/.test(column) && /^[0-9a-f]{32}$/.test(text))
      return h('td', {}, h('a', { href: `/traces/${text}`, class: 'mono' }, text));
    return h('td', { class: typeof value === 'number' ? 'num' : null }, text);
  };
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'muted', id: 'lake-summary', 'data-truncated': String(result.truncated) },
      result.truncated
        ? `The first ${result.row_count} rows in ${result.elapsed_ms} ms: the query has more, and the console reads at ` +
            `most ${result.max_rows} (download has the same); narrow it with WHERE or LIMIT, or aggregate.`
        : `${result.row_count} rows in ${result.elapsed_ms} ms`,
    ),
    result.rows.length === 0
      ? message(
          'empty',
          'No rows. The lake fills when the compaction job runs (npm run demo runs it every minute).',
        )
      : h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'list result' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                result.columns.map((c, i) => h('th', { title: result.types[i] ?? '' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              result.rows.map((row) =>
                h(
                  'tr',
                  {},
                  result.columns.map((c) => cell(c, row[c])),
                ),
              ),
            ),
          ),
        ),
  );
}
