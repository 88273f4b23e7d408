import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { basePrefix, createS3Client, type S3ConnectionOptions } from './s3-object-store.ts';

/**
 * Checks the bucket is there and that these credentials may write and delete under the
 * prefix, with one small object written and removed again. Throws what S3 says (no such
 * bucket, access denied, a signature that does not match) or a timeout after `timeoutMs`.
 */
export async function probeS3(o: S3ConnectionOptions & { timeoutMs: number }): Promise<string> {
  const client = createS3Client(o);
  const abortSignal = AbortSignal.timeout(o.timeoutMs);
  const where = `s3://${o.bucket}/${basePrefix(o.prefix)}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: o.bucket }), { abortSignal }).catch((err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      throw new Error(`bucket ${o.bucket}: ${headFailure(err.$metadata?.httpStatusCode) ?? (err.message || err.name)}`, { cause: err });
    });
    const key = `${basePrefix(o.prefix)}sluice-check/${randomUUID()}.probe`;
    await client.send(new PutObjectCommand({ Bucket: o.bucket, Key: key, Body: 'sluice check\n' }), { abortSignal });
    await client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: key }), { abortSignal });
    return `${where}: bucket exists; a probe object was written and deleted`;
  } finally {
    client.destroy();
  }
}

/** HEAD answers carry no body, so the status is all S3 says. */
function headFailure(status: number | undefined): string | null {
  if (status === 404) return 'does not exist';
  if (status === 403) return 'access denied (HTTP 403: wrong keys, or no permission on the bucket)';
  if (status === 301) return 'is in another region (HTTP 301: set the region)';
  if (status === 400) return 'bad request (HTTP 400: often a region the endpoint does not serve)';
  return null;
}
