const AUTHORIZATION = ['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'] as const;

/** The broker refused the client's credentials or its ACLs: retrying the same request cannot help. */
export function isAccessError(err: unknown): boolean {
  return accessReason(err) !== null;
}

/**
 * What a person should read first in a client error: the failed authentication or the
 * missing ACL buried under the client's retries and aggregate errors, else its message.
 */
export function kafkaReason(err: unknown): string {
  return accessReason(err) ?? (err as Error).message;
}

function accessReason(err: unknown): string | null {
  if (find(err, (e) => e.code === 'PLT_KFK_AUTHENTICATION')) return 'SASL authentication failed (check the user, password and mechanism)';
  const api = AUTHORIZATION.find((a) => find(err, (e) => e.apiId === a));
  return api ? `not authorized (${api}): the user's ACLs do not allow this` : null;
}

type Node = { code?: unknown; apiId?: unknown; errors?: unknown; cause?: unknown; response?: unknown };

// The client nests the broker's answer under aggregate errors, causes and per-item errors;
// bounded, since an error graph may be deep or cyclic.
function find(err: unknown, test: (e: Node) => boolean, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 8) return false;
  const e = err as Node;
  if (test(e)) return true;
  const children = [...(Array.isArray(e.errors) ? e.errors : []), e.cause];
  return children.some((c) => find(c, test, depth + 1));
}
