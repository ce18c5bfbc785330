// Custom Prompts: each prompt type's text in effect beside the platform
// default, a "default changed" badge when the default moved after the
// account customized, the difference from the default, reset, and the
// history with restore (Starter and above, as for profiles and
// strategies). Also used by the admin's account page.
import { call } from '../api.js';
import {
  h, field, button, errorBox, onSubmit, showError, announce, heading, notice, badge, confirmDialog, redrawing, scrollablePre,
} from '../ui.js';
import { PROMPT } from '../kinds.js';
import { historySection } from '../history.js';
import { diffView } from '../diff.js';
import { planCustomizes, planLabel, promptLabel } from '../format.js';

export async function render(view, { identity, params }) {
  // An admin reaches one account's prompt from the account's page.
  const accountId = identity.role === 'admin' ? params.id : identity.account.id;
  const listPath = identity.role === 'admin' ? `/admin/accounts/${encodeURIComponent(accountId)}` : '/settings/prompts';
  if (params.type) {
    view.append(
      h('p', { class: 'breadcrumb' },
        ...(identity.role === 'admin'
          ? [h('a', { href: '#/admin/accounts', text: 'Accounts' }), ' › ', h('a', { href: `#${listPath}`, text: accountId }), ' › ']
          : [h('a', { href: `#${listPath}`, text: 'Custom Prompts' }), ' › ']),
        params.type),
      heading(`${promptLabel(params.type)} prompt`, identity.role === 'admin'
        ? `Account ${accountId}: the text its AI functions use, beside the platform default.`
        : 'The text your AI functions use, beside the platform default; its history, and restoring a version.'));
    const section = h('div');
    view.append(section);
    await renderPrompts(section, { accountId, type: params.type, linkBase: listPath });
    return;
  }
  view.append(heading('Custom Prompts',
    'The prompt text your account\'s AI functions use. Open a prompt to customize it, compare it with the platform default, or reset it.'));
  const section = h('div');
  view.append(section);
  await renderPrompts(section, { accountId });
}

// promptPath is the page of one of an account's prompts: the account's
// own, or (linkBase an admin's account page) one an admin opens.
function promptPath(linkBase, type) {
  return linkBase && linkBase !== '/settings/prompts'
    ? `${linkBase}/prompts/${encodeURIComponent(type)}`
    : `/settings/prompts/${encodeURIComponent(type)}`;
}

// renderPrompts fills container for one account (redrawn after every
// change, from fresh answers): with opts.type, that prompt's editor and
// history; else the list of its prompts, each linking to its page.
export function renderPrompts(container, opts) {
  return redrawing(container, () => drawPrompts(container, opts));
}

function firstLine(text) {
  const line = String(text || '').split('\n').find((l) => l.trim() !== '') || '';
  return line.length > 90 ? `${line.slice(0, 89)}…` : line;
}

function promptBadges(p) {
  const badges = [p.isCustomized ? badge('customized', 'account') : badge('platform default', 'global')];
  if (p.defaultChanged) badges.push(badge('default changed', 'warning'));
  if (p.overridesSuppressed) badges.push(badge('customization not applied on this plan', 'muted'));
  return badges;
}

async function drawPrompts(container, opts) {
  const { accountId, level = 2, type, linkBase = '' } = opts;
  const [effective, globals] = await Promise.all([
    call('PromptService/ListEffectivePrompts', { accountId }),
    call('PromptService/ListGlobalPrompts', {}),
  ]);
  const prompts = effective.prompts || [];
  const defaults = new Map((globals.prompts || []).map((g) => [g.promptType, g]));
  const plan = prompts[0]?.plan;
  const editable = planCustomizes(plan);
  const rerender = async (focusID) => {
    await renderPrompts(container, opts);
    document.getElementById(focusID)?.focus();
  };
  const parts = [];
  if (!editable) {
    parts.push(notice('readonly',
      h('p', {}, h('strong', { text: 'Read-only. ' }),
        `The ${planLabel(plan)} plan always uses the platform's prompts; customizing them needs the Starter, Growth or Scale plan.`),
      h('p', {}, 'Reason: ', h('code', { class: 'reason', text: 'PLAN_UPGRADE_REQUIRED' }))));
  }
  if (!type) {
    parts.push(h('table', { class: 'data prompts', id: accountId ? `prompts-${accountId}-table` : 'prompts-table' },
      h('caption', { text: `${prompts.length} prompt types` }),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: 'Prompt type' }),
        h('th', { scope: 'col', text: 'State' }),
        h('th', { scope: 'col', text: 'Text in use begins' }))),
      h('tbody', {}, ...prompts.map((p) => h('tr', { 'data-prompt': p.promptType },
        h('th', { scope: 'row' },
          h('a', { href: `#${promptPath(linkBase, p.promptType)}`, text: promptLabel(p.promptType) }), h('br'), h('code', { text: p.promptType })),
        h('td', { class: 'state' }, ...promptBadges(p)),
        h('td', { class: 'preview', text: firstLine(p.text) }))))));
    container.replaceChildren(...parts);
    return;
  }
  const p = prompts.find((x) => x.promptType === type);
  if (!p) {
    throw { code: 'not_found', reason: 'PROMPT_TYPE_NOT_FOUND', message: `no prompt type ${type}` };
  }
  const idPrefix = `prompts-${accountId}`;
  const history = historySection({
    kind: PROMPT,
    accountId,
    items: new Map([[p.promptType, { name: promptLabel(p.promptType), revision: p.revision, text: p.text }]]),
    canRestore: editable,
    onRestored: () => rerender(`${idPrefix}-history-title`),
    level,
    idPrefix,
    itemId: type,
  });
  parts.push(promptCard({ p, global: defaults.get(p.promptType), accountId, editable, rerender, level: level - 1 }), history.card);
  await history.load();
  container.replaceChildren(...parts);
}

function promptCard({ p, global, accountId, editable, rerender, level }) {
  const key = p.promptType;
  const titleID = `prompt-${key}-title`;
  const vars = p.variables || [];
  const textarea = h('textarea', { rows: '10', class: 'prompt-text', readOnly: !editable, value: p.text, spellcheck: 'true' });
  const box = errorBox();
  const badges = promptBadges(p);

  const reset = button('Reset to default', { class: 'button secondary', 'data-action': 'reset', disabled: !(p.isCustomized || p.overridesSuppressed) });
  const form = h('form', { class: 'prompt-form', novalidate: true, 'aria-labelledby': titleID },
    box,
    field({
      label: editable ? 'Your prompt' : 'Prompt in use',
      input: textarea,
      name: 'text',
      hint: vars.length ? `Must use each of its variables: ${vars.map((v) => `{{${v}}}`).join(', ')}; no others.` : 'This prompt takes no variables.',
    }),
    h('div', { class: 'actions' },
      editable ? h('button', { type: 'submit', class: 'button', text: 'Save prompt' }) : null,
      editable || p.overridesSuppressed ? reset : null));

  const changedNote = p.defaultChanged
    ? notice('warning', h('p', { text: 'The platform default changed after this prompt was customized. Compare it with yours; reset to use the new default.' }))
    : null;
  const card = h('section', { class: 'card prompt', id: `prompt-${key}`, 'aria-labelledby': titleID },
    h(`h${level + 1}`, { id: titleID, tabindex: '-1' }, promptLabel(key), ' ', h('code', { text: key }), ' ', ...badges),
    changedNote,
    h('div', { class: 'side-by-side' },
      form,
      h('div', { class: 'default-text' },
        h('h4', { text: 'Platform default' }),
        global?.description ? h('p', { class: 'hint', text: global.description }) : null,
        scrollablePre('prompt-default', global ? global.text : '', `Platform default: ${promptLabel(key)}`))),
    // The account's text against the default it customizes.
    p.isCustomized && !p.overridesSuppressed && global
      ? h('details', { class: 'diff-block' }, h('summary', { text: 'Compare with the platform default' }),
        diffView(global.text, p.text, {
          label: `Difference of your ${promptLabel(key)} prompt from the platform default`, fromName: 'the platform default', toName: 'Your prompt',
        }))
      : null);

  onSubmit(form, box, async () => {
    const req = { accountId, promptType: key, text: textarea.value };
    if (p.revision && p.revision !== '0') req.expectedRevision = p.revision;
    const saved = await call('PromptService/CustomizePrompt', req);
    announce(saved.isCustomized
      ? `Saved your ${promptLabel(key)} prompt.`
      : `Your ${promptLabel(key)} prompt is the platform default again (the text matched it).`);
    await rerender(titleID);
  });
  reset.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Reset the ${promptLabel(key)} prompt?`,
      body: 'Your text is replaced by the current platform default. The prompt history keeps your text.',
      confirmLabel: 'Reset to default',
      danger: true,
    });
    if (!ok) return;
    try {
      const req = { accountId, promptType: key };
      if (p.revision && p.revision !== '0') req.expectedRevision = p.revision;
      await call('PromptService/ResetPrompt', req);
      announce(`The ${promptLabel(key)} prompt uses the platform default again.`);
      await rerender(titleID);
    } catch (err) {
      showError(box, err, form);
    }
  });
  return card;
}
