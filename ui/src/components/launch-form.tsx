import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, ApiError, data, type PipelineDetail } from '../api/client';
import { ErrorNote } from './error-note';

interface ParamSchema {
  readonly type?: string;
  readonly enum?: readonly (string | number)[];
  readonly default?: unknown;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
}

type Scalar = string | number | boolean | null;

const todayUtc = () => new Date().toISOString().slice(0, 10);

/**
 * "Launch run", generated from the pipeline's params JSON schema: one field per param with
 * its default as placeholder, and the partition picker of a partitioned pipeline. The API
 * validates; its message (which names the param) is shown under the form.
 */
export function LaunchForm({ pipeline }: { pipeline: PipelineDetail }) {
  const navigate = useNavigate();
  const schema = (pipeline.params ?? {}) as { properties?: Record<string, ParamSchema>; required?: string[] };
  const fields = Object.entries(schema.properties ?? {});
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const parts = pipeline.partitions;
  const [partition, setPartition] = useState(parts ? (parts.end && parts.end < todayUtc() ? parts.end : parts.granularity === 'daily' ? parts.start : parts.start.slice(0, 7)) : '');
  const [all, setAll] = useState(false);
  const launch = useMutation({
    mutationFn: () => {
      const params: Record<string, Scalar> = {};
      for (const [name, s] of fields) {
        const v = values[name];
        if (v === undefined || v === '') continue;
        params[name] = s.type === 'boolean' ? v === true : s.type === 'number' || s.type === 'integer' ? Number(v) : String(v);
      }
      const partitionPart = !parts ? {} : all ? { allPartitions: true } : { partition };
      return data(api.POST('/api/v1/runs', { body: { pipeline: pipeline.name, params, ...partitionPart } }));
    },
    onSuccess: (run) => navigate(`/runs/${run.id}`),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    launch.mutate();
  };
  const fieldError = launch.error instanceof ApiError ? launch.error.problem.field : undefined;
  return (
    <form className="launch" onSubmit={submit} aria-label="launch a run">
      <h2>Launch</h2>
      {parts ? (
        <fieldset>
          <legend>Partition</legend>
          <label>
            {parts.granularity === 'daily' ? 'Day' : 'Month'}{' '}
            <input
              type={parts.granularity === 'daily' ? 'date' : 'month'}
              value={partition}
              min={parts.granularity === 'daily' ? parts.start : parts.start.slice(0, 7)}
              max={parts.end ?? undefined}
              onChange={(e) => setPartition(e.target.value)}
              disabled={all}
              required={!all}
            />
          </label>
          <label><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> All partitions the source has</label>
        </fieldset>
      ) : null}
      {fields.length > 0 ? (
        <fieldset>
          <legend>Params</legend>
          {fields.map(([name, s]) => (
            <div key={name} className={`field${fieldError?.includes(name) ? ' invalid' : ''}`}>
              <label htmlFor={`param-${name}`}>{name}</label>
              {s.type === 'boolean' ? (
                <input id={`param-${name}`} type="checkbox" checked={values[name] === true} onChange={(e) => setValues({ ...values, [name]: e.target.checked })} />
              ) : s.enum ? (
                <select id={`param-${name}`} value={String(values[name] ?? '')} onChange={(e) => setValues({ ...values, [name]: e.target.value })}>
                  <option value="">{s.default !== undefined ? `default (${String(s.default)})` : '—'}</option>
                  {s.enum.map((v) => <option key={String(v)} value={String(v)}>{String(v)}</option>)}
                </select>
              ) : (
                <input
                  id={`param-${name}`}
                  type={s.type === 'number' || s.type === 'integer' ? 'number' : 'text'}
                  step={s.type === 'integer' ? 1 : 'any'}
                  placeholder={s.default !== undefined ? `default ${String(s.default)}` : ''}
                  value={String(values[name] ?? '')}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                />
              )}
              {s.description ? <span className="hint">{s.description}</span> : null}
            </div>
          ))}
        </fieldset>
      ) : null}
      <button type="submit" disabled={launch.isPending}>Launch run</button>
      {launch.error ? <ErrorNote error={launch.error} /> : null}
    </form>
  );
}
