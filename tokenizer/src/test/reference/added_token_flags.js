const t = require('tokenizers');
(async () => {
  for (const [label, opts] of [['lstrip', {leftStrip: true}], ['rstrip', {rightStrip: true}], ['single', {singleWord: true}]]) {
    const tok = t.Tokenizer.fromFile('/work/shared/fixtures/tokenizer/tokenizer.json');
    tok.disablePadding(); tok.disableTruncation();
    tok.addAddedTokens([new t.AddedToken('[MASK]', true, opts), new t.AddedToken('zq', true, opts)]);
    for (const s of ['a  [MASK]  b', 'a[MASK]b', 'x [MASK]', '[MASK] y', 'a\u00a0\t[MASK]\n b', 'é[MASK]', '_[MASK]_', '1zq2', 'a zq b', 'azq', 'zq']) {
      const e = await tok.encode(s, null, {addSpecialTokens: false});
      console.log(label, JSON.stringify(s), JSON.stringify(e.getTokens()), JSON.stringify(e.getOffsets()));
    }
  }
})();
