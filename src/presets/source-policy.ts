import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourcePolicy } from '../sdk/source-policy.ts';
import type { SluiceConfig } from './config.ts';

/** The data shipped with Sluice (the retail sample); a restricted run may always read it. */
export const BUNDLED_DATA = fileURLToPath(new URL('../../data/', import.meta.url));

export type SourceTrust = SourcePolicy['trust'];

/**
 * The config with `sources.trust` decided: what the config says, else what the starting
 * command says. A control plane hands this to the workers it forks, so they enforce
 * exactly its policy.
 */
export function withSourceTrust(config: SluiceConfig, fallback: SourceTrust): SluiceConfig {
  return Object.freeze({ ...config, sources: { ...config.sources, trust: config.sources.trust ?? fallback } });
}

/** The policy a process enforces on every step it runs (docs/decisions/0009-source-policy.md). */
export function sourcePolicyOf(config: SluiceConfig, fallback: SourceTrust): SourcePolicy {
  const s = config.sources;
  return Object.freeze({
    trust: s.trust ?? fallback,
    roots: Object.freeze([...(s.roots ?? [BUNDLED_DATA, join(config.home, 'inbox')])]),
    urlPrefixes: Object.freeze([...s.urlPrefixes]),
    allowPrivateNetworks: s.allowPrivateNetworks,
    connectTimeoutMs: s.connectTimeoutMs,
    idleTimeoutMs: s.idleTimeoutMs,
    maxBytes: s.maxBytes,
  });
}
