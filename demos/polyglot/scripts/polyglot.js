// The polyglot demo's JavaScript program (QuickJS): writes /data/from-js.txt,
// then tries to read each sibling's file, which is not in its tree (each
// process has its own /data). Exits 0 if every read fails, 1 if one succeeds,
// 2 if it cannot write.
const me = 'js';
const mine = `/data/from-${me}.txt`;
try {
  fs.writeFileSync(mine, `written by the ${me} program\n`);
} catch (e) {
  console.error(`cannot write ${mine}: ${e.message}`);
  process.exit(2);
}
const refused = [];
for (const other of ['rust', 'go', 'c', 'js', 'python']) {
  if (other === me) continue;
  const path = `/data/from-${other}.txt`;
  try {
    fs.readFileSync(path);
    console.log(`read ${path}: isolation is broken`);
    process.exit(1);
  } catch (e) {
    refused.push(`${other} (${e.code ?? 'refused'})`);
  }
}
console.log(`wrote ${mine}; cannot read ${refused.join(', ')}`);
