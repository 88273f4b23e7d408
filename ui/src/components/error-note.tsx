import { ApiError } from '../api/client';

/** An error as the API said it (the detail names the field or rule), never a bare status code. */
export function ErrorNote({ error }: { error: unknown }) {
  const text = error instanceof ApiError ? error.problem.detail : error instanceof Error ? error.message : String(error);
  return <p role="alert" className="error">{text}</p>;
}
