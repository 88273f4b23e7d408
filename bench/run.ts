// `npm run bench`: every benchmark prints its figures and a ratio against a baseline
// measured in the same process. Not a test: nothing here passes or fails on time.
import { benchRetailLoad } from './retail-load.bench.ts';

const fmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(3));

console.log('retail raw load, 20 days (ours vs chDB INSERT … SELECT FROM file())');
const r = await benchRetailLoad();
for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(20)} ${fmt(v)}`);
console.log(`  => ratio ${r.ratio.toFixed(2)} (aim ≥ 0.5); heap peak ${r.x1_heap_mb.toFixed(1)} MB at 1× vs ${r.x5_heap_mb.toFixed(1)} MB at 5× input`);
