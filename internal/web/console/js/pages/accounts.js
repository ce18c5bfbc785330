// Accounts: the list (paginated), create or change an account and its
// plan, and the note's admin bulk action: reset prompts to the platform
// defaults for chosen accounts and/or a prompt type.
import { call } from '../api.js';
import { h, field, select, button, errorBox, onSubmit, announce, heading, confirmDialog, failed } from '../ui.js';
import { PLANS, planLabel, promptLabel } from '../format.js';

const PAGE_SIZE = 50;

export async function render(view, { navigate }) {
  view.append(heading('Accounts', 'Each account\'s plan decides what it may change. Open an account for its overrides and prompts.'));
  const list = h('div');
  const { prompts = [] } = await call('PromptService/ListGlobalPrompts', {});
  const selected = new Set();
  view.append(accountForm(navigate), list, bulkResetForm(selected, prompts));
  await drawPage(list, selected, '', []);
}

// drawPage shows one page of accounts; previous holds the tokens of the
// pages before it, for "Previous".
async function drawPage(list, selected, pageToken, previous) {
  const res = await call('AccountService/ListAccounts', { pageSize: PAGE_SIZE, pageToken });
  const accounts = res.accounts || [];
  const rows = accounts.map((a) => {
    const check = h('input', {
      type: 'checkbox', checked: selected.has(a.id), 'aria-label': `Select ${a.id} for the bulk reset`,
      onchange: (ev) => (ev.target.checked ? selected.add(a.id) : selected.delete(a.id)),
    });
    return h('tr', { 'data-account': a.id },
      h('td', {}, check),
      h('th', { scope: 'row' }, h('a', { href: `#/admin/accounts/${encodeURIComponent(a.id)}`, text: a.id })),
      h('td', { text: a.name }),
      h('td', { text: planLabel(a.plan) }));
  });
  const prev = previous.length ? button('Previous page', {
    class: 'button secondary', onclick: () => drawPage(list, selected, previous[previous.length - 1], previous.slice(0, -1)).catch((err) => failed(list, err)),
  }) : null;
  const next = res.nextPageToken ? button('Next page', {
    class: 'button secondary', onclick: () => drawPage(list, selected, res.nextPageToken, [...previous, pageToken]).catch((err) => failed(list, err)),
  }) : null;
  list.replaceChildren(
    h('table', { class: 'data', id: 'accounts-table' },
      h('caption', { text: accounts.length ? 'Accounts' : 'No accounts yet' }),
      h('thead', {}, h('tr', {}, ...['Select', 'Id', 'Name', 'Plan'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows)),
    h('div', { class: 'actions' }, prev, next));
}

function accountForm(navigate) {
  const id = h('input', { type: 'text', autocomplete: 'off' });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const plan = select(PLANS, 'PLAN_STARTER');
  const box = errorBox();
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'account-form-title' },
    h('h2', { id: 'account-form-title', text: 'Create or update an account' }),
    box,
    h('div', { class: 'row' },
      field({ label: 'Id', input: id, name: 'account.id', hint: 'The platform\'s account id: letters, digits, ".", "_", ":", "@", "-". An existing id is updated.' }),
      field({ label: 'Name', input: name, name: 'account.name' }),
      field({ label: 'Plan', input: plan, name: 'account.plan' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save account' })));
  onSubmit(form, box, async () => {
    const saved = await call('AccountService/UpsertAccount', { account: { id: id.value.trim(), name: name.value.trim(), plan: plan.value } });
    announce(`Saved account ${saved.id}.`);
    navigate(`/admin/accounts/${encodeURIComponent(saved.id)}`);
  });
  return form;
}

function bulkResetForm(selected, prompts) {
  const scope = select([
    { value: 'selected', label: 'The accounts selected above' },
    { value: 'all', label: 'Every account' },
  ], 'selected');
  const type = select([{ value: '', label: 'Every prompt type' },
    ...prompts.map((p) => ({ value: p.promptType, label: `${promptLabel(p.promptType)} (${p.promptType})` }))], '');
  const box = errorBox();
  const form = h('form', { class: 'card', id: 'bulk-reset', novalidate: true, 'aria-labelledby': 'bulk-reset-title' },
    h('h2', { id: 'bulk-reset-title', text: 'Reset prompts to the platform defaults' }),
    h('p', { class: 'hint', text: 'Customized prompts of the chosen accounts go back to the live platform text. The prompt history keeps the old text.' }),
    box,
    h('div', { class: 'row' },
      field({ label: 'Accounts', input: scope, name: 'account_ids' }),
      field({ label: 'Prompt type', input: type, name: 'prompt_types' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button danger', text: 'Reset prompts…' })));
  const request = () => ({
    accountIds: scope.value === 'selected' ? [...selected] : [],
    promptTypes: type.value ? [type.value] : [],
  });
  onSubmit(form, box, async () => {
    const res = await call('PromptService/BulkResetPrompts', request());
    announce(`Reset ${res.resetCount || 0} customized prompts to the platform defaults.`);
  }, {
    confirm: () => {
      const r = request();
      if (scope.value === 'selected' && !r.accountIds.length) {
        throw { code: 'invalid_argument', reason: 'VALIDATION_FAILED', message: 'select at least one account, or choose every account', fieldViolations: [{ field: 'account_ids', description: 'no account selected' }] };
      }
      const who = r.accountIds.length ? `${r.accountIds.length} selected account(s)` : 'every account';
      const what = r.promptTypes.length ? `the ${promptLabel(r.promptTypes[0])} prompt` : 'every prompt type';
      return confirmDialog({
        title: 'Reset prompts?',
        body: `Reset ${what} of ${who} to the platform default. Their custom text is replaced.`,
        confirmLabel: 'Reset prompts',
        danger: true,
      });
    },
  });
  return form;
}
