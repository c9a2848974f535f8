const t = require('tokenizers');
const fs = require('fs');
const clean = t.bertNormalizer({cleanText:true, handleChineseChars:false, stripAccents:false, lowercase:false});
const strip = t.bertNormalizer({cleanText:false, handleChineseChars:false, stripAccents:true, lowercase:false});
const lower = t.bertNormalizer({cleanText:false, handleChineseChars:false, stripAccents:false, lowercase:true});
const cjk = t.bertNormalizer({cleanText:false, handleChineseChars:true, stripAccents:false, lowercase:false});
const pre = t.bertPreTokenizer();
const out = {clean:[], strip:[], lower:[], cjk:[], pre:[]};
const hex = s => Array.from(s).map(ch => ch.codePointAt(0).toString(16)).join(' ');
for (let cp = 0; cp <= 0x10FFFF; cp++) {
  if (cp >= 0xD800 && cp <= 0xDFFF) continue;
  const c = String.fromCodePoint(cp);
  const s = 'a' + c + 'b';
  const r1 = clean.normalizeString(s);
  if (r1 !== s) out.clean.push(cp.toString(16) + ' ' + (r1 === 'ab' ? 'del' : r1 === 'a b' ? 'ws' : 'other:' + hex(r1)));
  const r2 = strip.normalizeString(c);
  if (r2 !== c) out.strip.push(cp.toString(16) + ' ' + (r2.length ? hex(r2) : '-'));
  const r3 = lower.normalizeString(c);
  if (r3 !== c) out.lower.push(cp.toString(16) + ' ' + hex(r3));
  const r4 = cjk.normalizeString(c);
  if (r4 !== c) out.cjk.push(cp.toString(16));
  const p = pre.preTokenizeString(s);
  const kind = p.length === 3 ? 'punct' : p.length === 2 ? 'ws' : p.length === 1 ? null : 'other:' + JSON.stringify(p);
  if (kind) out.pre.push(cp.toString(16) + ' ' + kind);
}
for (const k of Object.keys(out)) fs.writeFileSync('probe/' + k + '.txt', out[k].join('\n') + '\n');
console.log(Object.fromEntries(Object.entries(out).map(([k,v]) => [k, v.length])));
