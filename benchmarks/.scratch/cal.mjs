let t = process.hrtime.bigint(); let x = 0;
for (let i = 0; i < 1e9; i++) x = (x + i) | 0;
console.log('1e9 adds ms', Number(process.hrtime.bigint() - t) / 1e6, x);
