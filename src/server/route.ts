import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Role } from './auth/roles.ts';

export type Access = 'public' | Role;

export interface RouteContext<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly principal: { role: Role; name: string };
}

/**
 * One API operation: its zod schemas validate the request and, from the same objects, the
 * OpenAPI document is generated. A handler that returns `undefined` has written the reply
 * itself (SSE).
 */
export interface RouteDef<P = unknown, Q = unknown, B = unknown, R = unknown> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify style: /runs/:id */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  /** Request headers the route reads (others are ignored, not refused). */
  readonly headers?: z.ZodObject;
  readonly response: z.ZodType<R>;
  readonly status?: number;
  /** Further statuses whose body is `response` too (a 503 that still reports, like /readyz). */
  readonly alsoStatus?: readonly number[];
  /** Non-JSON responses (text/event-stream, text/plain). */
  readonly produces?: string;
  handler(ctx: RouteContext<P, Q, B>): Promise<R | undefined>;
}

/** Keeps the type parameters of one route together. */
export const route = <P, Q, B, R>(def: RouteDef<P, Q, B, R>): RouteDef<P, Q, B, R> => def;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any, any>;
