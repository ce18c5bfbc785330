// Author profiles and content strategies: the two kinds of item accounts
// may customize or create (SPEC §12). One table entry per kind, as the
// service keeps its registry (domain.ItemKinds); every page about them
// iterates it, so the kinds' pages are one module each, not two.
import { h, field, uid, scrollablePre } from './ui.js';

// Limits are the service's (internal/validate/items.go): characters for
// short fields, bytes for long ones.
const chars = (n) => ({ n, unit: 'characters' });
const kib = (n) => ({ n: n * 1024, unit: 'bytes' });

export const ARTICLE_TYPES = [
  { value: 'blog_post', label: 'Blog post' },
  { value: 'how_to', label: 'How-to' },
  { value: 'listicle', label: 'Listicle' },
  { value: 'guide', label: 'Guide' },
  { value: 'comparison', label: 'Comparison' },
  { value: 'review', label: 'Review' },
  { value: 'news', label: 'News' },
  { value: 'landing_page', label: 'Landing page' },
  { value: 'product_description', label: 'Product description' },
];

export const WORD_COUNT = { min: 100, max: 10000 };

// A few common BCP 47 tags, offered as suggestions (any canonical tag is
// accepted).
const LANGUAGES = ['en', 'en-GB', 'en-US', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pt-BR', 'pl', 'sv', 'da', 'nb', 'fi', 'ja', 'zh-Hans'];

const articleTypeLabel = (t) => (ARTICLE_TYPES.find((a) => a.value === t) || { label: t }).label;

// Content fields: field is the proto name (violations and update masks
// use it), json the proto3 JSON name (requests and answers).
const NAME = { field: 'name', json: 'name', label: 'Name', type: 'text', limit: chars(100), required: true, hint: 'Shown to people choosing one.' };
const DESCRIPTION = { field: 'description', json: 'description', label: 'Description', type: 'textarea', rows: 2, limit: chars(1000), hint: 'What it is for, in a sentence or two.' };

export const KINDS = {
  author_profile: {
    key: 'author_profile',
    enum: 'ITEM_KIND_AUTHOR_PROFILE',
    json: 'authorProfile', // the request field, and ItemVersion's
    service: 'AuthorProfileService',
    singular: 'AuthorProfile', // RPC names: Create<singular>, List<plural>, ...
    plural: 'AuthorProfiles',
    listField: 'authorProfiles',
    suppressedField: 'suppressedAuthorProfiles',
    defaultField: 'defaultAuthorProfileId', // Account, GlobalSettings and SetAccountDefaults
    defaultPath: 'default_author_profile_id',
    noun: 'author profile',
    nouns: 'author profiles',
    short: 'profile',
    shorts: 'profiles',
    adminPath: '/admin/profiles',
    accountPath: '/settings/profiles',
    fields: [
      NAME,
      DESCRIPTION,
      { field: 'tone', json: 'tone', label: 'Tone', type: 'text', limit: chars(200), hint: 'A few words, e.g. "warm, confident".' },
      {
        field: 'language', json: 'language', label: 'Language', type: 'language', required: true,
        hint: 'A BCP 47 tag in its canonical form: en, en-GB, de.',
      },
      { field: 'audience', json: 'audience', label: 'Audience', type: 'textarea', rows: 2, limit: chars(500), hint: 'Who reads what it writes.' },
      {
        field: 'style_guide', json: 'styleGuide', label: 'Style guide', type: 'textarea', rows: 12, limit: kib(16), mono: true,
        hint: 'The instructions given to the model: voice, structure, words to use and avoid.',
      },
    ],
    // Columns of the lists, beside the name.
    columns: [
      { label: 'Language', value: (p) => h('code', { text: p.language || '' }) },
      { label: 'Tone', value: (p) => p.tone || '—' },
    ],
  },
  content_strategy: {
    key: 'content_strategy',
    enum: 'ITEM_KIND_CONTENT_STRATEGY',
    json: 'contentStrategy',
    service: 'ContentStrategyService',
    singular: 'ContentStrategy',
    plural: 'ContentStrategies',
    listField: 'contentStrategies',
    suppressedField: 'suppressedContentStrategies',
    defaultField: 'defaultContentStrategyId',
    defaultPath: 'default_content_strategy_id',
    noun: 'content strategy',
    nouns: 'content strategies',
    short: 'strategy',
    shorts: 'strategies',
    adminPath: '/admin/strategies',
    accountPath: '/settings/strategies',
    fields: [
      NAME,
      DESCRIPTION,
      { field: 'objective', json: 'objective', label: 'Objective', type: 'textarea', rows: 2, limit: chars(500), hint: 'What the content should achieve.' },
      { field: 'audience', json: 'audience', label: 'Audience', type: 'textarea', rows: 2, limit: chars(500), hint: 'Who the content is for.' },
      { field: 'article_types', json: 'articleTypes', label: 'Article types', type: 'checkboxes', hint: 'At least one.' },
      {
        field: 'word_count_min', json: 'wordCountMin', label: 'Minimum word count', type: 'number', required: true,
        hint: `${WORD_COUNT.min}–${WORD_COUNT.max.toLocaleString('en')}, at most the maximum.`,
      },
      {
        field: 'word_count_max', json: 'wordCountMax', label: 'Maximum word count', type: 'number', required: true,
        hint: `${WORD_COUNT.min}–${WORD_COUNT.max.toLocaleString('en')}.`,
      },
      {
        field: 'keyword_guidelines', json: 'keywordGuidelines', label: 'Keyword guidelines', type: 'textarea', rows: 6, limit: kib(4), mono: true,
        hint: 'How to choose and place keywords.',
      },
      {
        field: 'structure_guidelines', json: 'structureGuidelines', label: 'Structure guidelines', type: 'textarea', rows: 10, limit: kib(16), mono: true,
        hint: 'Headings, sections, length of parts, calls to action.',
      },
    ],
    columns: [
      { label: 'Article types', value: (s) => (s.articleTypes || []).map(articleTypeLabel).join(', ') || '—' },
      { label: 'Words', value: (s) => h('span', { class: 'nowrap', text: `${s.wordCountMin ?? '?'}–${s.wordCountMax ?? '?'}` }) },
    ],
  },
};

// PROMPT is the prompt kind as the history shows it (HistoryService
// covers prompts too). It is not in KINDS: prompts have no own items and
// their own pages (prompts.js, global-prompts.js). An ItemVersion's prompt
// is its text alone, so versions are read through version().
export const PROMPT = {
  key: 'prompt',
  enum: 'ITEM_KIND_PROMPT',
  json: 'prompt',
  noun: 'prompt',
  nouns: 'prompts',
  short: 'prompt',
  shorts: 'prompts',
  fields: [{ field: 'text', json: 'text', label: 'Text', type: 'textarea' }],
  version: (v) => (typeof v === 'string' ? { text: v } : v),
  itemLabel: (id) => {
    const s = String(id || '').replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  },
};

// rpc names a kind's method: rpc(kind, 'Create') is
// "AuthorProfileService/CreateAuthorProfile"; plural for the List ones.
export function rpc(kind, verb, { plural = false } = {}) {
  return `${kind.service}/${verb}${plural ? kind.plural : kind.singular}`;
}

// updateMask lists every content field, so a field left empty clears it
// (AIP-134): a save sends the whole form.
export function updateMask(kind) {
  return kind.fields.map((f) => f.json).join(',');
}

// measure is a text's length as its limit counts it.
function measure(text, limit) {
  return limit.unit === 'bytes' ? new TextEncoder().encode(text).length : [...text].length;
}

function limitText(limit) {
  return limit.unit === 'bytes' ? `${limit.n / 1024} KiB` : `${limit.n.toLocaleString('en')} characters`;
}

// counter shows how much of its limit a text field uses, as it is typed.
function counter(input, limit) {
  const el = h('span', { class: 'counter' });
  const update = () => {
    const n = measure(input.value, limit);
    el.textContent = limit.unit === 'bytes'
      ? ` ${n.toLocaleString('en')} bytes of ${limitText(limit)}.`
      : ` ${n.toLocaleString('en')} of ${limitText(limit)}.`;
    el.classList.toggle('over', n > limit.n);
  };
  input.addEventListener('input', update);
  update();
  return el;
}

let datalistAdded = false;
function languageList() {
  if (!datalistAdded) {
    document.body.append(h('datalist', { id: 'bcp47-tags' }, ...LANGUAGES.map((t) => h('option', { value: t }))));
    datalistAdded = true;
  }
  return 'bcp47-tags';
}

// articleTypesGroup is the article types as checkboxes: a fieldset that
// carries the field's name, so a violation of "article_types[1]" lands on
// the group, with its error below it.
function articleTypesGroup(f, prefix, value, readOnly) {
  const id = uid('types');
  const hintID = `${id}-hint`;
  const boxes = ARTICLE_TYPES.map((t) => {
    const box = h('input', { type: 'checkbox', value: t.value, checked: value.includes(t.value), disabled: readOnly, id: uid('type') });
    return h('span', { class: 'check' }, box, h('label', { for: box.id, text: t.label }));
  });
  const group = h('fieldset', {
    class: 'field checks', id, tabindex: '-1', 'data-field': `${prefix}${f.field}`, 'aria-describedby': hintID,
  },
  h('legend', { text: f.label }),
  h('div', { class: 'check-list' }, ...boxes),
  h('p', { class: 'hint', id: hintID, text: f.hint }),
  h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
  return group;
}

// itemForm builds the inputs of an item's content (and its id when new).
// prefix is what the request names the item ("author_profile."), so
// violations land beside their inputs. read() returns the message.
export function itemForm(kind, item, { prefix = `${kind.key}.`, isNew = false, readOnly = false } = {}) {
  const inputs = {};
  const parts = [];
  const idInput = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: item?.id || '', readOnly: !isNew });
  if (isNew) {
    parts.push(field({
      label: 'Id (required)', input: idInput, name: `${prefix}id`,
      hint: 'Lower-case letters, digits and "-", up to 63 characters, e.g. acme-voice. It cannot be changed later.',
    }));
  }
  for (const f of kind.fields) {
    const value = item?.[f.json];
    if (f.type === 'checkboxes') {
      inputs[f.json] = articleTypesGroup(f, prefix, value || [], readOnly);
      parts.push(inputs[f.json]);
      continue;
    }
    let input;
    if (f.type === 'textarea') {
      input = h('textarea', { rows: String(f.rows || 3), value: value || '', readOnly, class: f.mono ? 'prompt-text' : '' });
    } else if (f.type === 'number') {
      input = h('input', {
        type: 'number', step: '1', min: String(WORD_COUNT.min), max: String(WORD_COUNT.max), inputmode: 'numeric',
        value: value !== undefined ? String(value) : '', readOnly,
      });
    } else {
      input = h('input', { type: 'text', value: value || '', readOnly, autocomplete: 'off' });
      if (f.type === 'language') {
        input.setAttribute('list', languageList());
        input.setAttribute('spellcheck', 'false');
        input.classList.add('short');
      }
    }
    if (f.required) input.setAttribute('aria-required', 'true');
    inputs[f.json] = input;
    const hint = h('span', { text: f.hint || '' });
    if (f.limit) hint.append(readOnly ? ` At most ${limitText(f.limit)}.` : counter(input, f.limit));
    parts.push(field({ label: f.required ? `${f.label} (required)` : f.label, input, name: `${prefix}${f.field}`, hint }));
  }
  const read = () => {
    const out = { id: idInput.value.trim() };
    for (const f of kind.fields) {
      const input = inputs[f.json];
      if (f.type === 'checkboxes') {
        out[f.json] = [...input.querySelectorAll('input:checked')].map((c) => c.value);
      } else if (f.type === 'number') {
        // Empty is 0 (the service names the range); text that is not a
        // whole number is sent as typed, for the service to refuse.
        const raw = input.value.trim();
        const n = Number(raw);
        out[f.json] = raw === '' ? 0 : Number.isInteger(n) ? n : raw;
      } else {
        out[f.json] = input.value;
      }
    }
    return out;
  };
  return { parts, read, inputs };
}

// itemFacts shows an item's content read-only (the platform version beside
// a customization, a version in the history). With compare, the fields
// that differ from it are marked.
export function itemFacts(kind, item, compare) {
  const dl = h('dl', { class: 'facts' });
  const differs = new Set(compare ? changedFields(kind, compare, item) : []);
  for (const f of kind.fields) {
    const v = item?.[f.json];
    let shown;
    if (f.type === 'checkboxes') shown = (v || []).map(articleTypeLabel).join(', ') || '—';
    else if (v === undefined || v === '') shown = '—';
    else shown = String(v);
    const diff = differs.has(f.label.toLowerCase());
    dl.append(h('dt', { class: diff ? 'differs' : '' }, f.label, diff ? h('span', { class: 'badge warning', text: 'differs from yours' }) : null),
      h('dd', {}, f.type === 'textarea' && shown !== '—' ? scrollablePre('fact-text', shown, f.label) : shown));
  }
  return dl;
}

// changedFields names the content fields that differ between two
// versions of an item.
export function changedFields(kind, before, after) {
  return kind.fields.filter((f) => JSON.stringify(before?.[f.json] ?? emptyOf(f)) !== JSON.stringify(after?.[f.json] ?? emptyOf(f)))
    .map((f) => f.label.toLowerCase());
}

function emptyOf(f) {
  if (f.type === 'checkboxes') return [];
  if (f.type === 'number') return 0;
  return '';
}
