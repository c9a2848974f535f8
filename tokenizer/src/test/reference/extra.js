// Extra reference cases from tokenizers@0.23.2 for bertj's tokenizer tests: seeded random texts built from
// fragments of the public fixture texts and hand-picked hard characters, with options the fixture lacks
// (only_first, stride + overflowing windows, pad_to_multiple_of, max_length below the special tokens).
const t = require('tokenizers');
const fs = require('fs');
const tok = t.Tokenizer.fromFile('/work/shared/fixtures/tokenizer/tokenizer.json');
let seed = 20261123;
const rnd = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n; };
const fixture = fs.readFileSync('/work/shared/fixtures/tokenizer/cases.jsonl', 'utf8').trim().split('\n').map(JSON.parse);
const texts = fixture.flatMap(c => [c.text, c.text_pair, ...(c.texts || []), ...(c.text_pairs || [])]).filter(s => s);
const hard = ['\u0301', '\u0316', 'e\u0301', 'İ', 'ı', 'ΣΑΣ', '가각', 'ガ', '≠', '™', '€', '\u00a0', '\u200b', '\u200d', '\u00ad', '\ufeff',
  '\u0085', '\u000b', '\u000c', '\u001b', '\t', '\r', '\n', '\u3000', '中文', '\u{20000}', '\u{2B820}', '\u{1F600}', '\u{1F469}\u200d\u{1F4BB}',
  '\u{1D45B}', '\u{E000}', '\u{F0000}', '\u0378', '\u{1E944}', '\u{11938}', '꟎', '[CLS]', '[SEP]', '[MASK]', '[UNK]', '[PAD]', '[cls]', '[CLS',
  '\ufffd', '\u0000', 'a'.repeat(101), 'ab'.repeat(50), 'x'.repeat(99), '##', "don't", 'ﬁ', 'Å', '\u0130\u0307', '\u1e9e', 'ǅ', '\u{10400}'];
function randomText() {
  const parts = []; const n = 1 + rnd(5);
  for (let i = 0; i < n; i++) {
    if (rnd(3) === 0) parts.push(hard[rnd(hard.length)]);
    else { const s = texts[rnd(texts.length)]; const a = rnd(Math.max(1, s.length)); parts.push(s.slice(a, a + 1 + rnd(120))); }
  }
  return parts.join(rnd(2) ? ' ' : '');
}
function dump(e) {
  return { ids: e.getIds(), tokens: e.getTokens(), type_ids: e.getTypeIds(), attention_mask: e.getAttentionMask(),
    special_tokens_mask: e.getSpecialTokensMask(), offsets: e.getOffsets(), word_ids: e.getWordIds().map(x => x ?? null),
    sequence_ids: e.getSequenceIds().map(x => x ?? null), overflowing: e.getOverflowing().map(dump) };
}

// The largest stride the reference accepts: below every non-zero length a sequence is truncated to.
function strideLimit(la, lb, isPair, max, strategy, addSpecial) {
  const added = addSpecial ? (isPair ? 3 : 2) : 0;
  if (max < added) return 1;
  const m = max - added;
  if (m === 0 || la + lb <= m) return 1;
  let targets = [];
  if (strategy === 'LongestFirst') {
    if (!isPair) targets = [[la, m]];
    else {
      let n1 = la, n2 = lb, swap = n1 > n2; if (swap) [n1, n2] = [n2, n1];
      n2 = n1 > m ? n1 : Math.max(n1, m - n1);
      if (n1 + n2 > m) { n1 = Math.floor(m / 2); n2 = n1 + m % 2; }
      if (swap) [n1, n2] = [n2, n1];
      targets = [[la, n1], [lb, n2]];
    }
  } else {
    const len = strategy === 'OnlyFirst' ? la : lb;
    targets = [[len, len - (la + lb - m)]];
  }
  let limit = Infinity;
  for (const [len, n] of targets) if (n < len && n > 0) limit = Math.min(limit, n);
  return limit === Infinity ? 1 : limit;
}
const strategies = ['LongestFirst', 'OnlyFirst', 'OnlySecond'];
(async () => {
  const out = [];
  for (let i = 0; i < 400; i++) {
    const text = randomText(); const pair = rnd(2) ? randomText() : null;
    tok.disableTruncation(); tok.disablePadding();
    const len = async s => (await tok.encode(s, null, { addSpecialTokens: false })).getLength();
    const la = await len(text), lb = pair === null ? 0 : await len(pair);
    const opts = { add_special_tokens: rnd(6) !== 0 };
    const mode = rnd(4);
    if (mode === 1) { // truncation; max_length from 0 to the total length
      const strategy = strategies[rnd(3)];
      const max = rnd(la + lb + 4);
      opts.truncation = { max_length: max, strategy, stride: 0 };
    } else if (mode === 2) { // overflowing windows: every sequence fits in max_length, so the reference's early exit cuts nothing
      const max = Math.max(la, lb, 1) + rnd(4);
      const strategy = pair === null ? 'LongestFirst' : strategies[rnd(3)];
      opts.truncation = { max_length: max, strategy, stride: rnd(Math.max(1, strideLimit(la, lb, pair !== null, max, strategy, opts.add_special_tokens))) };
      opts.overflowing = true;
    } else if (mode === 3) {
      opts.padding = rnd(2) ? { strategy: 'fixed', length: rnd(40), pad_to_multiple_of: rnd(3) ? null : 8 } : { strategy: 'batch_longest', pad_to_multiple_of: 8 };
    }
    if (opts.truncation) tok.setTruncation(opts.truncation.max_length, { strategy: opts.truncation.strategy, stride: opts.truncation.stride });
    if (opts.padding) tok.setPadding(opts.padding.strategy === 'fixed'
      ? { maxLength: opts.padding.length, padToMultipleOf: opts.padding.pad_to_multiple_of ?? undefined }
      : { padToMultipleOf: 8 });
    const c = { id: 'extra-' + i, text, text_pair: pair, options: opts };
    try {
      const e = await tok.encode(text, pair, { addSpecialTokens: opts.add_special_tokens });
      Object.assign(c, dump(e));
      c.decoded = await tok.decode(e.getIds(), true);
      c.decoded_with_special = await tok.decode(e.getIds(), false);
    } catch (err) { c.error = String(err.message || err); }
    out.push(JSON.stringify(c));
  }
  fs.writeFileSync('extra_cases.jsonl', out.join('\n') + '\n');
  console.log(out.length, out.filter(l => l.includes('"error"')).length, 'errors', out.filter(l => /"overflowing":\[\{/.test(l)).length, 'with windows');
})();
