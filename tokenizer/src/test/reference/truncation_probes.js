const t = require('tokenizers');
const tok = t.Tokenizer.fromFile('/work/shared/fixtures/tokenizer/tokenizer.json');
tok.disablePadding();
const lw = 'unbelievablenessly';
async function show(label, f) { try { const e = await f(); console.log(label, e.getLength(), e.getTokens().join(' '), '| ov:', e.getOverflowing().map(o => o.getTokens().join(' '))); } catch (err) { console.log(label, 'ERR', String(err)); } }
(async () => {
  tok.setTruncation(16, {stride: 2});
  await show('lit', () => tok.encode(Array(15).fill('[CLS]').join(' ') + ' ' + lw + ' cat cat cat', null, {addSpecialTokens:false}));
  tok.setTruncation(0);
  await show('ml0', () => tok.encode('hello world', null, {addSpecialTokens:false}));
  await show('ml0s', () => tok.encode('hello world'));
  tok.setTruncation(1);
  await show('ml1s', () => tok.encode('hello world'));
  tok.setTruncation(2);
  await show('ml2s', () => tok.encode('hello world'));
  await show('ml2pair', () => tok.encode('hello world', 'foo bar'));
  tok.setTruncation(3);
  await show('ml3pair', () => tok.encode('hello world', 'foo bar'));
  tok.setTruncation(4);
  await show('ml4pair', () => tok.encode('hello world', 'foo bar'));
  // removed

  tok.setTruncation(8, {strategy: 'OnlySecond'});
  await show('only2single', () => tok.encode('hello world a b c d e f g', null));
  await show('only2', () => tok.encode('hello world a b c d e f g', 'x'));
  await show('only2b', () => tok.encode('a', 'hello world a b c d e f g'));
  tok.setTruncation(8, {strategy: 'OnlyFirst'});
  await show('only1', () => tok.encode('a', 'hello world a b c d e f g'));
  tok.setTruncation(8, {stride: 2, strategy: 'OnlySecond'});
  await show('qa', () => tok.encode('who', 'hello world a b c d e f g h i j k'));
  tok.setTruncation(9, {stride: 1});
  await show('lf-both', () => tok.encode('a1 b1 c1 d1 e1 f1', 'a2 b2 c2 d2 e2 f2'));
  tok.disableTruncation();
  tok.setPadding({maxLength: 8});
  await show('pad', () => tok.encode('hello', 'x'));
  await show('empty', () => tok.encode(''));
  await show('emptypair', () => tok.encode('', ''));
})();
