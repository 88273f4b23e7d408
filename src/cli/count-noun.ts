/** `1 row`, `3,108 rows`: a count with its noun, grouped the way the CLI prints numbers. */
export function countNoun(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}
