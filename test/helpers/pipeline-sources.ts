/**
 * A pipeline file whose step names a dep that is not a step (`'lod'` for `'load'`): it fails
 * its load at line 4, column 18, where the step is declared.
 */
export const TYPO_PIPELINE = [
  `import { definePipeline } from 'sluice';`,
  `const p = definePipeline({ name: 'typo' });`,
  `const load = p.step({ name: 'load', run: () => undefined });`,
  `const report = p.step({ name: 'report', deps: ['lod'], run: () => undefined });`,
  `export default p.build({ steps: [load, report] });`,
  '',
].join('\n');

/** A pipeline file that throws a SyntaxError at import, at line 3 (a bad JSON literal, not bad TypeScript). */
export const THROWS_AT_IMPORT_PIPELINE = [
  `import { definePipeline } from 'sluice';`,
  `const p = definePipeline({ name: 'broken' });`,
  `const rows: string[] = JSON.parse('[1, 2');`,
  `export default p.build({ steps: [p.step({ name: 'x', run: () => rows })] });`,
  '',
].join('\n');
