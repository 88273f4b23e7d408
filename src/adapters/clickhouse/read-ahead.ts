/**
 * Pulls up to `depth` items ahead of the consumer, so the producer (JS parsing) keeps
 * working while the consumer (the engine's insert, off the JS thread) writes the previous
 * chunk. Memory stays bounded by `depth` items.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth = 2): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  const fill = () => {
    while (queue.length < depth) {
      const next = it.next();
      // Awaited only once the consumer asks again: until then a failing source (an IPC
      // feed whose worker died) would be an unhandled rejection and end the process.
      next.catch(() => undefined);
      queue.push(next);
    }
  };
  try {
    fill();
    for (;;) {
      const r = await queue.shift()!;
      if (r.done) return;
      fill();
      yield r.value;
    }
  } finally {
    // Settle what is in flight before closing the source, so no rejection goes unhandled.
    await Promise.allSettled(queue);
    await it.return?.();
  }
}
