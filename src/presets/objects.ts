import { join } from 'node:path';
import { createLocalObjectStore } from '../adapters/local-fs/local-object-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { SluiceConfig } from './config.ts';

/**
 * The object store a config names: `<home>/objects`, or an S3 bucket. A module of its own
 * (not embedded.ts) so worker processes open it without loading every embedded store, and
 * the AWS SDK is loaded only when S3 is configured.
 */
export async function openObjects(config: SluiceConfig): Promise<ObjectStore> {
  if (config.objects.kind === 's3') {
    const { createS3ObjectStore } = await import('../adapters/s3/s3-object-store.ts');
    const { bucket, prefix, endpoint, region, forcePathStyle, credentials } = config.objects;
    return createS3ObjectStore({ bucket, prefix, endpoint, region, forcePathStyle, credentials });
  }
  return createLocalObjectStore({ root: join(config.home, 'objects') });
}
