// Generation Context: what a generation job of an account would get for a
// function (ConfigService.GetGenerationContext): the model configuration
// with where each value comes from, the prompt, the author profile and the
// content strategy. For admins checking a job's inputs; the API key is
// never part of it (only SERVICE callers receive keys).
import { call } from '../api.js';
import {
  h, field, select, errorBox, onSubmit, showError, heading, badge, scrollablePre,
} from '../ui.js';
import {
  FUNCTIONS, PARAMS, integration, planLabel, promptLabel, sourceLabel,
} from '../format.js';
import { KINDS, itemFacts } from '../kinds.js';

export async function render(view, { params }) {
  view.append(heading('Generation Context',
    'Everything a generation job of an account gets for one function, in one call: model and parameters, prompt, author profile and content strategy.'));
  const accountId = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: params.id || '' });
  const fn = select(FUNCTIONS.map((f) => ({ value: f.value, label: `${f.label} (${f.value})` })), 'generate_content');
  const choices = {};
  for (const kind of Object.values(KINDS)) {
    choices[kind.key] = select([{ value: '', label: 'The account\'s default' }], '');
  }
  const box = errorBox();
  const result = h('div', { id: 'context-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'context-form', novalidate: true, 'aria-labelledby': 'context-form-title' },
    h('h2', { id: 'context-form-title', text: 'Job' }),
    box,
    h('div', { class: 'row' },
      field({ label: 'Account id', input: accountId, name: 'account_id', hint: 'The account the job runs for.' }),
      field({ label: 'Function', input: fn, name: 'function' }),
      field({
        label: 'Author profile', input: choices.author_profile, name: 'author_profile_id',
        hint: 'A job may name one; otherwise it gets the account\'s default, else the platform\'s.',
      }),
      field({ label: 'Content strategy', input: choices.content_strategy, name: 'content_strategy_id' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Show the context' })));

  // The profiles and strategies offered are the ones the account can use.
  let loadedFor = null;
  const loadChoices = async () => {
    const id = accountId.value.trim();
    if (!id || id === loadedFor) return;
    const lists = await Promise.all(Object.values(KINDS).map((kind) => call(`${kind.service}/List${kind.plural}`, { accountId: id })));
    Object.values(KINDS).forEach((kind, i) => {
      const keep = choices[kind.key].value;
      const items = lists[i][kind.listField] || [];
      const def = lists[i].defaultId;
      choices[kind.key].replaceChildren(
        h('option', { value: '', text: def ? `The account's default (${def})` : 'The account\'s default (none)' }),
        ...items.map((it) => h('option', { value: it.id, text: `${it.name} (${it.id})`, selected: it.id === keep })));
    });
    loadedFor = id;
  };
  accountId.addEventListener('change', () => loadChoices().catch((err) => showError(box, err, form, 'account_id')));

  onSubmit(form, box, async () => {
    await loadChoices();
    const req = { accountId: accountId.value.trim(), function: fn.value };
    if (choices.author_profile.value) req.authorProfileId = choices.author_profile.value;
    if (choices.content_strategy.value) req.contentStrategyId = choices.content_strategy.value;
    const ctx = await call('ConfigService/GetGenerationContext', req);
    result.replaceChildren(...contextView(ctx, req));
    document.getElementById('context-model-title')?.focus();
  }, { fallbackField: 'account_id' });

  view.append(form, result);
  if (params.id) {
    // Opened for an account (from its page): show its content generation.
    await loadChoices();
    const ctx = await call('ConfigService/GetGenerationContext', { accountId: params.id, function: fn.value });
    result.replaceChildren(...contextView(ctx, { accountId: params.id, function: fn.value }));
  }
}

function contextView(ctx, req) {
  const mc = ctx.modelConfig || {};
  const kind = integration(mc.integration).kind;
  const rows = [['Provider', integration(mc.integration).label, null], ['Model', mc.model, mc.sources?.model]];
  for (const p of PARAMS[kind]) {
    if (mc[p.json] !== undefined) rows.push([p.label, String(mc[p.json]), mc.sources?.[p.field]]);
  }
  rows.push(['API key', mc.apiKeySet ? 'configured (never shown here)' : 'not configured: workers are refused (API_KEY_NOT_CONFIGURED)', null]);
  const model = h('section', { class: 'card', id: 'context-model', 'aria-labelledby': 'context-model-title' },
    h('h2', { id: 'context-model-title', tabindex: '-1' }, 'Model configuration ',
      mc.overridesSuppressed ? badge('account choices not applied on this plan', 'muted') : null),
    h('p', { class: 'hint', text: `Account ${req.accountId} · ${planLabel(mc.plan)} plan · function ${mc.function} · revision ${ctx.revision}.` }),
    h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden', text: 'Model configuration and where each value comes from' }),
      h('thead', {}, h('tr', {}, ...['Setting', 'Value', 'From'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows.map(([label, value, source]) => h('tr', { 'data-setting': label },
        h('th', { scope: 'row', text: label }), h('td', {}, h('code', { text: value ?? '' })),
        h('td', {}, source ? h('span', { class: `source ${source === 'SOURCE_ACCOUNT' ? 'from-account' : 'from-global'}`, text: sourceLabel(source) }) : '—'))))),
    (mc.adjustments || []).length
      ? h('ul', { class: 'adjustments' }, ...mc.adjustments.map((a) => h('li', { class: 'adjustment',
        text: `${a.field}: stored ${a.requested || '—'}, using ${a.applied || 'nothing'} (${a.reason})` })))
      : null);

  const pr = ctx.prompt || {};
  const prompt = h('section', { class: 'card', id: 'context-prompt', 'aria-labelledby': 'context-prompt-title' },
    h('h2', { id: 'context-prompt-title' }, `Prompt: ${promptLabel(pr.promptType)} `, h('code', { text: pr.promptType || '' }), ' ',
      pr.source === 'SOURCE_ACCOUNT' ? badge('customized', 'account') : badge('platform default', 'global'),
      pr.defaultChanged ? badge('default changed', 'warning') : null),
    (pr.variables || []).length ? h('p', { class: 'hint', text: `Variables the job fills in: ${pr.variables.map((v) => `{{${v}}}`).join(', ')}.` }) : null,
    scrollablePre('prompt-default', pr.text || '', `Prompt text: ${promptLabel(pr.promptType)}`));

  const items = Object.values(KINDS).map((kind) => {
    const it = ctx[kind.json];
    const titleID = `context-${kind.key}-title`;
    const named = req[`${kind.json}Id`];
    return h('section', { class: 'card', id: `context-${kind.key}`, 'aria-labelledby': titleID },
      h('h2', { id: titleID }, `${kind.noun.charAt(0).toUpperCase()}${kind.noun.slice(1)}: `,
        it ? [it.name, ' ', h('code', { text: it.id }), ' ', itemSource(it)] : 'none',
        it ? badge(named ? 'named by the job' : 'default', 'muted') : null),
      it ? itemFacts(kind, it) : h('p', { text: `No ${kind.noun}: the job named none, and neither the account nor the platform has a usable default.` }));
  });
  return [model, prompt, ...items];
}

function itemSource(it) {
  if (it.source === 'SOURCE_ACCOUNT') return badge(it.isCustomized ? 'customized' : 'account\'s own', 'account');
  return badge('platform', 'global');
}
