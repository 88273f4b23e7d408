import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../core/errors.ts';
import { sendProblem } from './send-problem.ts';

/**
 * Every method fastify knows but a path does not declare answers 405 with `Allow`, before
 * any body is read or token checked: the method is wrong whatever else the request holds.
 */
export function registerMethodNotAllowed(app: FastifyInstance, declared: ReadonlyMap<string, readonly string[]>): void {
  for (const [url, methods] of declared) {
    const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
    const others = app.supportedMethods.filter((m) => !allowed.includes(m));
    if (others.length === 0) continue;
    const allow = allowed.join(', ');
    const path = url.replace(/:([A-Za-z_]+)/g, '{$1}');
    app.route({
      method: others,
      url,
      onRequest: async (request, reply) => {
        void reply.header('allow', allow);
        return sendProblem(request, reply, new SluiceError('method_not_allowed', `${request.method} is not allowed on ${path}; allowed: ${allow}`));
      },
      handler: async () => undefined,
    });
  }
}
