// A line diff of two texts (a prompt against its default, a version
// against the current text), shown with <del> and <ins> lines built from
// DOM nodes: prompt text never becomes markup.
import { h } from './ui.js';

// Above this many line pairs the table would be large; such texts are
// shown as replaced whole (prompts are at most 64 KiB, mostly far less).
const MAX_CELLS = 4_000_000;

// lineDiff compares a with b line by line (longest common subsequence)
// and returns [{ op: 'same' | 'del' | 'add', line }], in order.
export function lineDiff(a, b) {
  const x = String(a ?? '').split('\n');
  const y = String(b ?? '').split('\n');
  // Common head and tail first: edits are usually small.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head += 1;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail += 1;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const out = x.slice(0, head).map((line) => ({ op: 'same', line }));
  const n = xs.length;
  const m = ys.length;
  if (n * m > MAX_CELLS) {
    out.push(...xs.map((line) => ({ op: 'del', line })), ...ys.map((line) => ({ op: 'add', line })));
  } else {
    // lcs[i][j]: length of the longest common subsequence of xs[i:], ys[j:].
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i -= 1) {
      for (let j = m - 1; j >= 0; j -= 1) {
        lcs[i][j] = xs[i] === ys[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) {
        out.push({ op: 'same', line: xs[i] });
        i += 1;
        j += 1;
      } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        // On a tie, removed lines come before the lines that replace them.
        out.push({ op: 'del', line: xs[i] });
        i += 1;
      } else {
        out.push({ op: 'add', line: ys[j] });
        j += 1;
      }
    }
  }
  out.push(...x.slice(x.length - tail).map((line) => ({ op: 'same', line })));
  return out;
}

// diffView shows lineDiff(from, to): a one-line summary, then the lines,
// removed ones marked "−" in <del>, added ones "+" in <ins> (the marks
// and the elements say it without colour). label names the scrollable
// block for screen readers.
export function diffView(from, to, { label, fromName, toName }) {
  const ops = lineDiff(from, to);
  const added = ops.filter((o) => o.op === 'add').length;
  const removed = ops.filter((o) => o.op === 'del').length;
  const summary = h('p', { class: 'diff-summary' });
  if (!added && !removed) {
    summary.textContent = `No difference: ${toName} is the same text as ${fromName}.`;
    return h('div', { class: 'diff' }, summary);
  }
  summary.append(`${toName} against ${fromName}: `,
    h('span', { class: 'diff-count add', text: `${added} line${added === 1 ? '' : 's'} added` }), ', ',
    h('span', { class: 'diff-count del', text: `${removed} line${removed === 1 ? '' : 's'} removed` }), '.');
  const lines = ops.map((o) => {
    if (o.op === 'same') return h('span', { class: 'diff-line same' }, h('span', { class: 'diff-mark', 'aria-hidden': 'true', text: ' ' }), o.line, '\n');
    const tag = o.op === 'add' ? 'ins' : 'del';
    return h(tag, { class: `diff-line ${o.op}` },
      h('span', { class: 'diff-mark', 'aria-hidden': 'true', text: o.op === 'add' ? '+' : '−' }),
      h('span', { class: 'visually-hidden', text: o.op === 'add' ? 'added: ' : 'removed: ' }),
      o.line, '\n');
  });
  return h('div', { class: 'diff' }, summary,
    h('pre', { class: 'diff-lines', tabindex: '0', role: 'region', 'aria-label': label }, ...lines));
}
