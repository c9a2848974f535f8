// Writes the Unicode 8.0 General_Category sets BertNormalizer / BertPreTokenizer depend on, as code point ranges.
const U = n => require('unicode-8.0.0/General_Category/' + n + '/code-points.js');
function ranges(cps) {
  cps = Array.from(new Set(cps)).sort((a, b) => a - b);
  const out = []; let s = cps[0], p = cps[0];
  for (const c of cps.slice(1)) { if (c === p + 1) { p = c; continue; } out.push([s, p]); s = p = c; }
  out.push([s, p]);
  return out.map(([a, b]) => a === b ? a.toString(16).toUpperCase() : a.toString(16).toUpperCase() + '..' + b.toString(16).toUpperCase());
}
const lines = [
 '# General_Category sets of Unicode 8.0.0 (UnicodeData.txt 8.0.0, via the npm package unicode-8.0.0@0.7.5),',
 '# the version of the tables in the Rust crate unicode_categories that Hugging Face tokenizers uses.',
 '# One set per line: NAME followed by hexadecimal code point ranges.',
];
const wrap = (name, rs) => { for (let i = 0; i < rs.length; i += 16) lines.push(name + ' ' + rs.slice(i, i + 16).join(' ')); };
wrap('Cc', ranges(U('Control'))); wrap('Cf', ranges(U('Format'))); wrap('Co', ranges(U('Private_Use')));
wrap('Mn', ranges(U('Nonspacing_Mark'))); wrap('P', ranges(U('Punctuation')));
require('fs').writeFileSync('unicode-8.0-categories.txt', lines.join('\n') + '\n');
console.log(lines.length);
