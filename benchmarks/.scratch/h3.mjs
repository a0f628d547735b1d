import { charCodeBucketer } from '../src/evaluation/adapters/floor.mjs';
const b = charCodeBucketer('s2-rollout');
const keys = [];
for (let i = 0; i < 16; i++) keys.push(JSON.parse(JSON.stringify('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeee' + (100 + i))));
for (let rep = 0; rep < 5; rep++) {
  let t = process.hrtime.bigint(); let x = 0;
  for (let r = 0; r < 1e7; r++) x += b(keys[r & 15]);
  console.log('ns/hash', Number(process.hrtime.bigint() - t) / 1e7, x);
}
// simple sum of charcodes
function sum(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h + s.charCodeAt(i)) | 0; return h; }
for (let rep = 0; rep < 3; rep++) {
  let t = process.hrtime.bigint(); let x = 0;
  for (let r = 0; r < 1e7; r++) x += sum(keys[r & 15]);
  console.log('ns/sum', Number(process.hrtime.bigint() - t) / 1e7, x);
}
