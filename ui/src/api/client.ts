import createClient, { type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { paths };
export type Problem = { title: string; status: number; detail: string; code: string; field?: string; position?: number };

const TOKEN_KEY = 'sluice.token';

/** The token lives in session storage (gone with the tab), never in a URL. */
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** Told on a 401: the app shows the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export const whenUnauthorized = (fn: () => void): void => {
  onUnauthorized = fn;
};

export function authHeaders(): Record<string, string> {
  const token = session.token();
  return token ? { authorization: `Bearer ${token}` } : {};
}

const auth: Middleware = {
  onRequest({ request }) {
    for (const [k, v] of Object.entries(authHeaders())) request.headers.set(k, v);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** An API error as the user reads it: the problem's detail (which names the field), not a status code. */
export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }
}

/** The data of an openapi-fetch result, or its problem thrown as an ApiError (for TanStack Query). */
export async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data: body, error, response } = await call;
  if (error !== undefined || body === undefined) {
    const p = (error ?? {}) as Partial<Problem>;
    throw new ApiError({ title: p.title ?? response.statusText, status: response.status, detail: p.detail ?? `HTTP ${response.status}`, code: p.code ?? 'internal', field: p.field, position: p.position });
  }
  return body;
}

type Json<Op> = Op extends { responses: { 200: { content: { 'application/json': infer R } } } } ? R
  : Op extends { responses: { 201: { content: { 'application/json': infer R } } } } ? R : never;
type Ops = operations;

export type RunDetail = Json<Ops['getRun']>;
export type RunRecord = RunDetail['run'];
export type StepRecord = RunDetail['steps'][number];
export type PipelineDetail = Json<Ops['getPipeline']>;
export type PipelineList = Json<Ops['listPipelines']>;
export type Me = Json<Ops['whoAmI']>;
export type RunStatus = RunRecord['status'];
export type StepStatus = StepRecord['status'];
export type Schemas = components;
