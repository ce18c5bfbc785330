// Global Prompts: the platform's default text per prompt type. The list
// (#/admin/prompts) shows every type in one short table and a form to add
// one; a type's page (#/admin/prompts/<type>) edits it and shows its
// history, each version with its difference from the current text, and
// restores one.
import { call } from '../api.js';
import {
  h, field, errorBox, onSubmit, announce, heading, showError, redrawing,
} from '../ui.js';
import { promptLabel } from '../format.js';
import { PROMPT } from '../kinds.js';
import { historySection } from '../history.js';

export async function render(view, { params, navigate }) {
  if (params.type) {
    await renderDetail(view, params.type, navigate);
    return;
  }
  view.append(heading('Global Prompts',
    'The platform\'s default prompt per type. Accounts that have not customized a prompt use it at once; customized ones see a "default changed" badge.'));
  const { prompts = [] } = await call('PromptService/ListGlobalPrompts', {});
  view.append(promptTable(prompts), newPromptForm(navigate));
}

const detailPath = (type) => `/admin/prompts/${encodeURIComponent(type)}`;

// firstLine is a short preview of a prompt's text.
function firstLine(text) {
  const line = String(text || '').split('\n').find((l) => l.trim() !== '') || '';
  return line.length > 90 ? `${line.slice(0, 89)}…` : line;
}

function promptTable(prompts) {
  if (!prompts.length) return h('p', { text: 'No prompt types yet: add one below.' });
  return h('table', { class: 'data prompts', id: 'global-prompts-table' },
    h('caption', { text: `${prompts.length} prompt types` }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Prompt type' }),
      h('th', { scope: 'col', text: 'Description' }),
      h('th', { scope: 'col', text: 'Variables' }),
      h('th', { scope: 'col', text: 'Begins' }))),
    h('tbody', {}, ...prompts.map((p) => h('tr', { 'data-prompt': p.promptType },
      h('th', { scope: 'row' },
        h('a', { href: `#${detailPath(p.promptType)}`, text: promptLabel(p.promptType) }), h('br'), h('code', { text: p.promptType })),
      h('td', { text: p.description || '—' }),
      h('td', {}, (p.variables || []).length
        ? h('ul', { class: 'params' }, ...p.variables.map((v) => h('li', {}, h('code', { text: `{{${v}}}` }))))
        : 'none'),
      h('td', { class: 'preview', text: firstLine(p.text) })))));
}

const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// promptInputs are the fields of a global prompt (the type only when new).
function promptInputs(p) {
  const type = h('input', { type: 'text', value: p ? p.promptType : '', autocomplete: 'off', spellcheck: 'false' });
  const description = h('input', { type: 'text', value: p?.description || '', class: 'wide' });
  const variables = h('input', { type: 'text', value: (p?.variables || []).join(', '), autocomplete: 'off', spellcheck: 'false' });
  const text = h('textarea', { rows: p ? '16' : '6', class: 'prompt-text', value: p?.text || '' });
  const parts = [
    p ? null : field({ label: 'Prompt type', input: type, name: 'prompt.prompt_type', hint: 'Lower snake case, e.g. meta_description. It cannot be changed later.' }),
    field({ label: 'Description', input: description, name: 'prompt.description' }),
    field({ label: 'Variables', input: variables, name: 'prompt.variables', hint: 'Comma-separated names; the text writes each as {{name}}.' }),
    field({ label: 'Text', input: text, name: 'prompt.text' }),
  ];
  const read = () => ({
    promptType: p ? p.promptType : type.value.trim(), description: description.value, variables: splitList(variables.value), text: text.value,
  });
  return { parts, read };
}

function newPromptForm(navigate) {
  const { parts, read } = promptInputs(null);
  const box = errorBox();
  const form = h('form', { class: 'card', id: 'global-prompt-new', novalidate: true, 'aria-labelledby': 'global-prompt-new-title' },
    h('h2', { id: 'global-prompt-new-title', tabindex: '-1', text: 'Add a prompt type' }),
    box, ...parts,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Add prompt type' })));
  onSubmit(form, box, async () => {
    const saved = await call('PromptService/UpsertGlobalPrompt', { prompt: read() });
    announce(`Added the ${promptLabel(saved.promptType)} prompt type.`);
    navigate(detailPath(saved.promptType));
  });
  return form;
}

// renderDetail is one prompt type: its form, then its history; it
// replaces what view shows once both are read.
async function renderDetail(view, type, navigate) {
  const p = await call('PromptService/GetGlobalPrompt', { promptType: type });
  const { parts, read } = promptInputs(p);
  const box = errorBox();
  const titleID = `global-prompt-${p.promptType}-title`;
  const form = h('form', { class: 'card', id: `global-prompt-${p.promptType}`, novalidate: true, 'aria-labelledby': titleID },
    h('h2', { id: titleID, tabindex: '-1', text: 'Default text' }),
    h('p', { class: 'hint form-intro', text: `Revision ${p.revision}. Saving changes what every account that has not customized this prompt uses, at once.` }),
    box, ...parts,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save default' })));
  // A change draws the page again from fresh answers (busy and inert
  // meanwhile), then puts focus back where the person was.
  const redraw = async (focusID) => {
    await redrawing(view, () => renderDetail(view, type, navigate));
    document.getElementById(focusID)?.focus();
  };
  onSubmit(form, box, async () => {
    const saved = await call('PromptService/UpsertGlobalPrompt', { prompt: read(), expectedRevision: p.revision });
    announce(`Saved the ${promptLabel(saved.promptType)} default (revision ${saved.revision}).`);
    await redraw(titleID);
  });
  const history = historySection({
    kind: PROMPT,
    accountId: '',
    items: new Map([[p.promptType, { name: promptLabel(p.promptType), revision: p.revision, text: p.text }]]),
    canRestore: true,
    onRestored: () => redraw(titleID).catch((err) => showError(box, err)),
    idPrefix: `global-prompt-${p.promptType}`,
    itemId: p.promptType,
  });
  await history.load();
  view.replaceChildren(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/admin/prompts', text: 'Global Prompts' }), ` › ${p.promptType}`),
    heading(promptLabel(p.promptType), p.description || 'A platform prompt.'),
    form,
    history.card);
}
