// Compacts the probe outputs of tokenizers@0.23.2 (probe.js) into a test resource.
const fs = require('fs');
const read = f => fs.readFileSync('probe/' + f + '.txt', 'utf8').trim().split('\n').map(l => l.split(' '));
function ranges(cps) {
  cps.sort((a, b) => a - b); const out = []; let s = cps[0], p = cps[0];
  for (const c of cps.slice(1)) { if (c === p + 1) { p = c; continue; } out.push([s, p]); s = p = c; }
  out.push([s, p]);
  return out.map(([a, b]) => a === b ? a.toString(16) : a.toString(16) + '..' + b.toString(16));
}
const lines = ['# Behaviour of tokenizers@0.23.2 (npm, linux-x64) on every code point except surrogates, one normalizer step at a time.',
  '# delete/whitespace: bertNormalizer(cleanText only) on "a"+c+"b" gives "ab" / "a b"; punct: bertPreTokenizer isolates c in "a"+c+"b";',
  '# cjk: bertNormalizer(handleChineseChars only) changes c; S cp out: bertNormalizer(stripAccents only) on c ("-" = removed);',
  '# L cp out: bertNormalizer(lowercase only) on c. Code points not listed under S / L are unchanged by that step.'];
const wrap = (name, rs) => { for (let i = 0; i < rs.length; i += 16) lines.push(name + ' ' + rs.slice(i, i + 16).join(' ')); };
const clean = read('clean');
wrap('delete', ranges(clean.filter(x => x[1] === 'del').map(x => parseInt(x[0], 16))));
wrap('whitespace', ranges(clean.filter(x => x[1] === 'ws').map(x => parseInt(x[0], 16))));
const pre = read('pre');
wrap('punct', ranges(pre.filter(x => x[1] === 'punct').map(x => parseInt(x[0], 16))));
wrap('split_ws', ranges(pre.filter(x => x[1] === 'ws').map(x => parseInt(x[0], 16))));
wrap('cjk', ranges(read('cjk').map(x => parseInt(x[0], 16))));
const strip = read('strip');
wrap('stripped', ranges(strip.filter(x => x[1] === '-').map(x => parseInt(x[0], 16))));
for (const x of strip) if (x[1] !== '-') lines.push('S ' + x.join(' '));
for (const x of read('lower')) lines.push('L ' + x.join(' '));
fs.writeFileSync('unicode-reference-0.23.2.txt', lines.join('\n') + '\n');
