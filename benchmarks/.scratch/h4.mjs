const s0 = JSON.parse(JSON.stringify('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeee100'));
function sum(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h + s.charCodeAt(i)) | 0; return h; }
const u8 = new Uint8Array(36).fill(97);
function sumA(a) { let h = 0; for (let i = 0; i < a.length; i++) h = (h + a[i]) | 0; return h; }
for (let rep = 0; rep < 4; rep++) {
  let t = process.hrtime.bigint(); let x = 0;
  for (let r = 0; r < 1e7; r++) x += sum(s0);
  const a = Number(process.hrtime.bigint() - t) / 1e7;
  t = process.hrtime.bigint();
  for (let r = 0; r < 1e7; r++) x += sumA(u8);
  const b = Number(process.hrtime.bigint() - t) / 1e7;
  console.log('str', a.toFixed(1), 'u8', b.toFixed(1), x);
}
