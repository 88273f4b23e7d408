import type { Command } from 'commander';
import { NotFoundError } from '../../core/errors.ts';
import { parseRole, ROLES } from '../../server/auth/roles.ts';
import { issueToken } from '../../server/auth/tokens.ts';
import { formatTable } from '../format-table.ts';
import { print, viaServerOr, type GlobalOptions } from '../context.ts';
import type { TokenRecord } from '../../ports/token-store.ts';

const NOTE = 'Store this token now: it cannot be shown again.';

export function registerToken(program: Command, globals: () => GlobalOptions): void {
  const token = program.command('token').description('manage API tokens (stored hashed; roles view, edit, admin)');

  token
    .command('create')
    .description('create an API token and print it once')
    .requiredOption('--role <role>', `what the token may do (${ROLES.join(', ')})`)
    .option('--name <name>', 'a unique name (default: the role and part of the id)')
    .option('--json', 'JSON output')
    .action(async (o: { role: string; name?: string; json?: boolean }) => {
      const role = parseRole(o.role, '--role');
      const { record, token: secret } = await viaServerOr(
        globals(),
        async (api) => {
          const r = await api.call<TokenRecord & { token: string }>('POST', '/api/v1/tokens', { role, name: o.name });
          const { token: t, ...rec } = r;
          return { record: rec, token: t };
        },
        (rt) => issueToken(rt.services.metadata.tokens, { role, name: o.name }),
      );
      // Only the secret goes to stdout in text mode, so `TOKEN=$(sluice token create ...)` works.
      if (o.json) {
        print(JSON.stringify({ ...record, token: secret }, null, 2));
      } else {
        process.stderr.write(`created token ${record.id} "${record.name}" with role ${record.role}\n`);
        print(secret);
      }
      process.stderr.write(`${NOTE}\n`);
    });

  token
    .command('list')
    .description('list API tokens (never their secrets), revoked ones included')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const tokens = await viaServerOr(
        globals(),
        async (api) => (await api.call<{ items: TokenRecord[] }>('GET', '/api/v1/tokens')).items,
        (rt) => rt.services.metadata.tokens.list(),
      );
      if (o.json) print(JSON.stringify(tokens, null, 2));
      else print(formatTable(tokens.map((t) => ({ ...t })), ['id', 'name', 'role', 'createdAt', 'lastUsedAt', 'revokedAt']));
    });

  token
    .command('revoke')
    .description('revoke an API token by id or name; it stops working at once')
    .argument('<id-or-name>')
    .action(async (idOrName: string) => {
      const revoked = await viaServerOr(
        globals(),
        async (api) => (await api.call<{ revoked: boolean }>('DELETE', `/api/v1/tokens/${encodeURIComponent(idOrName)}`)).revoked,
        (rt) => rt.services.metadata.tokens.revoke(idOrName),
      );
      if (!revoked) throw new NotFoundError('active token', idOrName);
      print(`revoked ${idOrName}`);
    });
}
