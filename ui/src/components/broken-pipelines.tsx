import type { PipelineList } from '../api/client';

/** Files that did not load, as Airflow shows a "Broken DAG": the error and where it is. */
export function BrokenPipelines({ broken }: { broken: PipelineList['broken'] }) {
  if (broken.length === 0) return null;
  return (
    <div className="broken" role="region" aria-label="broken pipelines">
      <h2>Broken pipelines</h2>
      <ul>
        {broken.map((b) => (
          <li key={b.file}>
            <code>{b.file}{b.line !== null ? `:${b.line}${b.column !== null ? `:${b.column}` : ''}` : ''}</code>
            <pre>{b.error}</pre>
          </li>
        ))}
      </ul>
    </div>
  );
}
