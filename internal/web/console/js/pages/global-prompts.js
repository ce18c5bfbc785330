// Global Prompts: the platform's default text per prompt type, its
// description and declared variables; a new type; the recent changes.
import { call } from '../api.js';
import { h, field, errorBox, onSubmit, announce, heading } from '../ui.js';
import { promptLabel, dateTime, roleLabel } from '../format.js';

export async function render(view) {
  view.append(heading('Global Prompts',
    'The platform\'s default prompt per type. Accounts that have not customized a prompt use it at once; customized ones see a "default changed" badge.'));
  const body = h('div');
  view.append(body);
  await draw(body);
}

async function draw(body, focusID) {
  const { prompts = [] } = await call('PromptService/ListGlobalPrompts', {});
  const redraw = (id) => draw(body, id);
  body.replaceChildren(
    ...prompts.map((p) => promptForm(p, redraw)),
    promptForm(null, redraw));
  if (focusID) document.getElementById(focusID)?.focus();
}

const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// promptForm edits one global prompt, or (p null) adds a prompt type.
function promptForm(p, redraw) {
  const isNew = !p;
  const key = p ? p.promptType : 'new';
  const titleID = `global-prompt-${key}-title`;
  const type = h('input', { type: 'text', value: p ? p.promptType : '', readOnly: !isNew, autocomplete: 'off' });
  const description = h('input', { type: 'text', value: p?.description || '', class: 'wide' });
  const variables = h('input', { type: 'text', value: (p?.variables || []).join(', '), autocomplete: 'off' });
  const text = h('textarea', { rows: isNew ? '5' : '10', class: 'prompt-text', value: p?.text || '' });
  const box = errorBox();
  const history = p ? historyBlock(p.promptType) : null;
  const form = h('form', { class: 'card', id: `global-prompt-${key}`, novalidate: true, 'aria-labelledby': titleID },
    h('h2', { id: titleID, tabindex: '-1' }, isNew ? 'Add a prompt type' : promptLabel(p.promptType), ' ',
      p ? h('code', { text: p.promptType }) : null),
    box,
    isNew ? field({ label: 'Prompt type', input: type, name: 'prompt.prompt_type', hint: 'Lower snake case, e.g. meta_description.' }) : null,
    field({ label: 'Description', input: description, name: 'prompt.description' }),
    field({ label: 'Variables', input: variables, name: 'prompt.variables', hint: 'Comma-separated names; the text writes each as {{name}}.' }),
    field({ label: 'Text', input: text, name: 'prompt.text' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: isNew ? 'Add prompt type' : 'Save default' })),
    history);
  onSubmit(form, box, async () => {
    const req = {
      prompt: { promptType: type.value.trim(), description: description.value, variables: splitList(variables.value), text: text.value },
    };
    if (p) req.expectedRevision = p.revision;
    const saved = await call('PromptService/UpsertGlobalPrompt', req);
    announce(`Saved the ${promptLabel(saved.promptType)} default.`);
    await redraw(`global-prompt-${saved.promptType}-title`);
  });
  return form;
}

// historyBlock lists the latest changes to a global prompt, on demand.
function historyBlock(promptType) {
  const list = h('div');
  const details = h('details', { class: 'history' }, h('summary', { text: 'Recent changes' }), list);
  let loaded = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || loaded) return;
    loaded = true;
    list.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
    try {
      const { entries = [] } = await call('PromptService/ListPromptHistory', { promptType, pageSize: 10 });
      list.replaceChildren(entries.length
        ? h('ol', { class: 'history-list' }, ...entries.map((e) => h('li', {},
          h('p', {}, h('strong', { text: e.action }), ` by ${e.actorName || 'unknown'} (${roleLabel(e.actorRole)}), ${dateTime(e.createTime)}`),
          h('pre', { class: 'prompt-default', text: e.newText }))))
        : h('p', { text: 'No changes recorded.' }));
    } catch (err) {
      loaded = false;
      list.replaceChildren(h('p', { class: 'field-error', text: `${err.message} (${err.reason || err.code})` }));
    }
  });
  return details;
}
