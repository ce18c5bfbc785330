// One account, for admins: name and plan, its model choices, prompts,
// author profiles and content strategies (the same views the account
// sees), resetting its prompts, deleting it.
import { call } from '../api.js';
import { h, field, select, button, errorBox, onSubmit, showError, announce, heading, confirmDialog } from '../ui.js';
import { PLANS, planLabel } from '../format.js';
import { renderModelSelection } from './model-selection.js';
import { renderPrompts } from './prompts.js';
import { renderItems } from './items.js';
import { KINDS } from '../kinds.js';

export async function render(view, { params, navigate }) {
  const account = await call('AccountService/GetAccount', { id: params.id });
  const overrides = h('section', { class: 'block', 'aria-labelledby': 'acct-models-title' });
  const prompts = h('section', { class: 'block', 'aria-labelledby': 'acct-prompts-title' });
  const itemSections = Object.values(KINDS).map((kind) => ({
    kind, el: h('section', { class: 'block', 'aria-labelledby': `acct-${kind.key}-title` }),
  }));
  const drawItems = () => Promise.all(itemSections.map(async ({ kind, el }) => {
    const inner = h('div');
    await renderItems(inner, { accountId: account.id, kind, level: 3 });
    el.replaceChildren(h('h2', { id: `acct-${kind.key}-title`, text: kind.nouns.charAt(0).toUpperCase() + kind.nouns.slice(1) }), inner);
  }));
  const redrawAll = async () => {
    const [a] = await Promise.all([
      call('AccountService/GetAccount', { id: account.id }),
      drawModels(),
      drawPrompts(),
      drawItems(),
    ]);
    Object.assign(account, a);
  };
  const drawModels = async () => {
    const inner = h('div');
    await renderModelSelection(inner, { accountId: account.id, level: 3 });
    overrides.replaceChildren(h('h2', { id: 'acct-models-title', text: 'AI model selection' }), inner);
  };
  const drawPrompts = async () => {
    const inner = h('div');
    await renderPrompts(inner, { accountId: account.id, level: 2, linkBase: `/admin/accounts/${encodeURIComponent(account.id)}` });
    prompts.replaceChildren(h('h2', { id: 'acct-prompts-title', text: 'Custom prompts' }), resetAllButton(account, drawPrompts), inner);
  };
  await Promise.all([drawModels(), drawPrompts(), drawItems()]);
  view.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/admin/accounts', text: 'Accounts' }), ` › ${account.id}`),
    heading(`Account ${account.id}`, `${account.name || 'No name'} · ${planLabel(account.plan)} plan`),
    h('p', {}, h('a', { href: `#/admin/context/${encodeURIComponent(account.id)}`, text: 'What a generation job of this account gets' })),
    planForm(account, redrawAll),
    overrides,
    prompts,
    ...itemSections.map((s) => s.el),
    deleteBlock(account, navigate));
}

function planForm(account, redrawAll) {
  const name = h('input', { type: 'text', value: account.name || '' });
  const plan = select(PLANS, account.plan);
  const box = errorBox();
  const form = h('form', { class: 'card', id: 'account-plan', novalidate: true, 'aria-labelledby': 'plan-title' },
    h('h2', { id: 'plan-title', tabindex: '-1', text: 'Name and plan' }),
    box,
    h('div', { class: 'row' },
      field({ label: 'Name', input: name, name: 'account.name' }),
      field({ label: 'Plan', input: plan, name: 'account.plan', hint: 'Free ignores stored overrides and custom prompts (kept, applied again after an upgrade).' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save name and plan' })));
  onSubmit(form, box, async () => {
    await call('AccountService/UpsertAccount', {
      account: { id: account.id, name: name.value.trim(), plan: plan.value },
      expectedRevision: account.revision,
    });
    announce(`Saved account ${account.id}: ${planLabel(plan.value)} plan.`);
    await redrawAll();
    document.querySelector('.page-sub').textContent = `${account.name || 'No name'} · ${planLabel(account.plan)} plan`;
    document.getElementById('plan-title').focus();
  });
  return form;
}

function resetAllButton(account, drawPrompts) {
  const box = errorBox();
  const b = button('Reset all of this account\'s prompts…', { class: 'button danger' });
  b.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Reset every prompt of ${account.id}?`,
      body: 'Each customized prompt goes back to the live platform text. The prompt history keeps the old text.',
      confirmLabel: 'Reset prompts',
      danger: true,
    });
    if (!ok) return;
    try {
      const res = await call('PromptService/BulkResetPrompts', { accountIds: [account.id] });
      announce(`Reset ${res.resetCount || 0} prompts of ${account.id}.`);
      await drawPrompts();
    } catch (err) {
      showError(box, err);
    }
  });
  return h('div', { class: 'actions' }, b, box);
}

function deleteBlock(account, navigate) {
  const box = errorBox();
  const b = button(`Delete account ${account.id}…`, { class: 'button danger' });
  b.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Delete account ${account.id}?`,
      body: 'Its overrides, prompts and tokens are deleted with it. This cannot be undone.',
      confirmLabel: 'Delete account',
      danger: true,
    });
    if (!ok) return;
    try {
      await call('AccountService/DeleteAccount', { id: account.id, expectedRevision: account.revision });
      announce(`Deleted account ${account.id}.`);
      navigate('/admin/accounts');
    } catch (err) {
      showError(box, err);
    }
  });
  return h('section', { class: 'card danger-zone', 'aria-labelledby': 'danger-title' },
    h('h2', { id: 'danger-title', text: 'Delete' }), box, h('div', { class: 'actions' }, b));
}
