const t = require('tokenizers');
const tok = t.Tokenizer.fromFile('/work/shared/fixtures/tokenizer/tokenizer.json');
tok.disablePadding();
(async () => {
  const lw = 'unbelievablenessly';
  let e0 = await tok.encode(lw, null, {addSpecialTokens:false}); console.log(e0.getTokens());
  for (const [n, ml, add] of [[15,16,false],[14,16,false],[12,16,false],[15,16,true],[13,16,true],[12,16,true]]) {
    tok.setTruncation(ml, {stride: 2});
    const text = Array(n).fill('the').join(' ') + ' ' + lw + ' ' + Array(20).fill('cat').join(' ');
    const e = await tok.encode(text, null, {addSpecialTokens: add});
    const ov = e.getOverflowing();
    console.log(n, ml, add, e.getLength(), ov.map(o => o.getTokens().join(' ')));
  }
})();
