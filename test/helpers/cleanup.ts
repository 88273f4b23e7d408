import {
  AbortMultipartUploadCommand, DeleteBucketCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';

/** Empties a test bucket (objects, page by page, and unfinished multipart uploads) and removes it; a bucket already gone is fine. */
export async function dropBucket(admin: S3Client, bucket: string): Promise<void> {
  try {
    let token: string | undefined;
    do {
      const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const { Uploads } = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of Uploads ?? []) await admin.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as Error).name !== 'NoSuchBucket') throw err;
  }
}

/** Drops a test's metadata schema with everything in it. */
export async function dropSchema(connectionString: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}
