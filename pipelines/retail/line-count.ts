/**
 * Passes a byte stream through unchanged while counting its physical lines on the bytes
 * themselves, apart from the CSV reader, so that a load can check that every line the
 * file has is accounted for. A last line without a final newline counts as a line.
 */
export function countingLines(input: AsyncIterable<Buffer | string>): { stream: AsyncIterable<Buffer | string>; lines: () => number } {
  let newlines = 0;
  let bytes = 0;
  let last = 0x0a;
  async function* stream(): AsyncGenerator<Buffer | string> {
    for await (const chunk of input) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) newlines += 1;
      if (b.length > 0) last = b[b.length - 1];
      bytes += b.length;
      yield chunk;
    }
  }
  return { stream: stream(), lines: () => newlines + (bytes > 0 && last !== 0x0a ? 1 : 0) };
}
