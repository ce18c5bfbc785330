// Author Profiles and Content Strategies of an account (one module; the
// sidebar entry names the kind): the items it can use — the platform's,
// its customizations of them ("default changed" when the platform moved
// since, reset) and its own (create up to the plan's limit, delete) —, the
// default its jobs get, and the history with restore. A Free account sees
// them read-only with the reason, and may still delete own items its plan
// no longer applies. Also used by the admin's account page.
import { call } from '../api.js';
import {
  h, field, select, button, errorBox, onSubmit, showError, announce, heading, notice, badge, confirmDialog, redrawing,
} from '../ui.js';
import { planCustomizes, planLabel } from '../format.js';
import { KINDS, rpc, itemForm, itemFacts, updateMask } from '../kinds.js';
import { historySection } from '../history.js';

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

export async function render(view, { identity, route }) {
  const kind = KINDS[route.kind];
  view.append(heading(route.label,
    kind.key === 'author_profile'
      ? 'The voices your generation jobs can write with: the platform\'s, your customizations of them, and your own.'
      : 'The plans your generation jobs can write to: the platform\'s, your customizations of them, and your own.'));
  const section = h('div');
  view.append(section);
  await renderItems(section, { accountId: identity.account.id, kind });
}

// renderItems fills container for one account and kind; every change
// redraws it from fresh answers and moves focus to focusID. Meanwhile
// the container is busy and inert: what it shows is about to be replaced,
// so an edit begun on it would be lost.
export async function renderItems(container, opts, focusID) {
  await redrawing(container, () => drawItems(container, opts));
  if (focusID) document.getElementById(focusID)?.focus();
}

async function drawItems(container, opts) {
  const { accountId, kind, level = 2 } = opts;
  const [listed, globals, account, limits] = await Promise.all([
    call(rpc(kind, 'List', { plural: true }), { accountId }),
    call(rpc(kind, 'ListGlobal', { plural: true }), {}),
    call('AccountService/GetAccount', { id: accountId }),
    call('ConfigService/ListPlanLimits', {}),
  ]);
  const items = listed[kind.listField] || [];
  const suppressed = listed[kind.suppressedField] || [];
  const globalByID = new Map((globals[kind.listField] || []).map((g) => [g.id, g]));
  const own = items.filter(isOwnItem);
  const editable = planCustomizes(account.plan);
  const limit = (limits.planLimits || []).find((l) => l.plan === account.plan && l.kind === kind.enum);
  const maxOwn = limit?.maxItems ?? 0;
  const p = kind.key; // element ids: unique on the admin's account page too, which shows both kinds
  const ctx = {
    kind, accountId, editable, globalByID, level, p,
    rerender: (id) => renderItems(container, opts, id),
  };
  const editor = h('div', { id: `${p}-editor` });
  const rowsBox = errorBox();
  ctx.edit = (item, isNew) => {
    editor.replaceChildren(itemEditor(ctx, item, isNew, editor));
    editor.querySelector(`h${level + 1}`).focus();
  };
  ctx.box = rowsBox;

  const parts = [];
  if (!editable) {
    parts.push(notice('readonly',
      h('p', {}, h('strong', { text: 'Read-only. ' }),
        `The ${planLabel(account.plan)} plan uses the platform's ${kind.nouns} as they are; customizing them and adding your own needs the Starter, Growth or Scale plan.`),
      h('p', {}, 'Reason: ', h('code', { class: 'reason', text: 'PLAN_UPGRADE_REQUIRED' })),
      h('p', { text: `You can still choose which of the platform's ${kind.nouns} your jobs use by default${suppressed.length ? `, and delete the ${kind.nouns} of your own kept from a paid plan` : ''}.` })));
  }
  const history = historySection({
    kind, accountId, canRestore: editable, level, idPrefix: p,
    items: new Map([...items, ...suppressed].filter((i) => i.revision && i.revision !== '0').map((i) => [i.id, { name: i.name, revision: i.revision }])),
    onRestored: (id) => ctx.rerender(`${p}-row-${id}`),
  });
  ctx.history = history;
  parts.push(defaultsForm(ctx, items, account, listed.defaultId || ''));
  const usage = editable
    ? h('p', { class: 'hint usage', id: `${p}-usage` },
      `${own.length} of ${maxOwn} ${kind.nouns} of your own (${planLabel(account.plan)} plan).`,
      own.length >= maxOwn ? ' At the limit: delete one, or upgrade, to add another.' : '')
    : null;
  parts.push(
    h(`h${level}`, { id: `${p}-list-title`, tabindex: '-1', text: editable ? `Your ${kind.nouns}` : `${cap(kind.nouns)} in use` }),
    usage,
    editable ? h('div', { class: 'actions' }, button(`Create ${kind.short === 'profile' ? 'a profile' : 'a strategy'}`, {
      'data-action': 'create', onclick: () => ctx.edit(null, true),
    })) : null,
    editor,
    rowsBox,
    h('table', { class: 'data items', id: `${p}-table` },
      h('caption', { text: `The ${kind.nouns} your generation jobs can use, by id` }),
      h('thead', {}, h('tr', {}, ...[cap(kind.short), ...kind.columns.map((c) => c.label), 'State', 'Actions']
        .map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...items.map((it) => itemRow(ctx, it, listed.defaultId)))));
  if (suppressed.length) {
    parts.push(
      h(`h${level + 1}`, { id: `${p}-suppressed-title`, text: `Kept ${kind.nouns}, not applied on the ${planLabel(account.plan)} plan` }),
      h('p', { class: 'hint', text: 'Your own, and your customizations of ones the platform archived: kept as they were, applied again after an upgrade. You may delete your own and reset a customization.' }),
      h('table', { class: 'data items suppressed', id: `${p}-suppressed` },
        h('caption', { class: 'visually-hidden', text: `Own ${kind.nouns} not applied` }),
        h('thead', {}, h('tr', {}, ...[cap(kind.short), ...kind.columns.map((c) => c.label), 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, ...suppressed.map((it) => h('tr', { id: `${p}-row-${it.id}`, tabindex: '-1', 'data-item': it.id },
          nameCell(it), ...kind.columns.map((c) => h('td', {}, c.value(it))),
          h('td', { class: 'row-actions' }, isOwnItem(it) ? deleteButton(ctx, it) : resetButton(ctx, it)))))));
  }
  parts.push(history.card);
  await history.load();
  container.replaceChildren(...parts.filter(Boolean));
}

function nameCell(it) {
  return h('th', { scope: 'row' }, h('span', { class: 'item-name', text: it.name }), h('br'), h('code', { text: it.id }),
    it.description ? h('p', { class: 'hint', text: it.description }) : null);
}

// isOwnItem: the account's own item, which has no platform version. (An
// own item keeps its id when the platform later publishes one with the
// same id: the account's own hides it, for this account only.)
const isOwnItem = (it) => !Number(it.globalRevision);

function itemRow(ctx, it, defaultID) {
  const { kind, editable, globalByID, p } = ctx;
  const isOwn = isOwnItem(it);
  const badges = [];
  if (isOwn) badges.push(badge('your own', 'account'));
  else if (it.isCustomized && it.source === 'SOURCE_ACCOUNT') badges.push(badge('customized', 'account'));
  else badges.push(badge('platform', 'global'));
  if (isOwn && globalByID.has(it.id)) badges.push(badge(`hides the platform's ${kind.short} of this id`, 'muted'));
  if (it.defaultChanged) badges.push(badge('default changed', 'warning'));
  if (it.overridesSuppressed) badges.push(badge('not applied on this plan', 'muted'));
  if (it.archived) badges.push(badge('archived by the platform', 'muted'));
  if (it.id === defaultID) badges.push(badge('default for jobs', 'ok'));
  const actions = [];
  const open = (label, action) => button(label, {
    class: 'button small secondary', 'data-action': action, 'aria-label': `${label} ${it.name}`, onclick: () => ctx.edit(it, false),
  });
  if (!editable) actions.push(open('View', 'view'));
  else if (isOwn || it.isCustomized) actions.push(open('Edit', 'edit'));
  else actions.push(open('Customize', 'customize'));
  if (!isOwn && it.isCustomized) actions.push(resetButton(ctx, it));
  if (isOwn) actions.push(deleteButton(ctx, it));
  actions.push(button('History', {
    class: 'button small secondary', 'data-action': 'history', 'aria-label': `History of ${it.name}`,
    onclick: () => ctx.history.show(it.id).catch((err) => showError(ctx.box, err)),
  }));
  return h('tr', { id: `${p}-row-${it.id}`, tabindex: '-1', 'data-item': it.id },
    nameCell(it),
    ...kind.columns.map((c) => h('td', {}, c.value(it))),
    h('td', { class: 'state' }, ...badges),
    h('td', { class: 'row-actions' }, ...actions));
}

// resetButton returns a customization to the live platform version
// (allowed on every plan, so a Free account can drop a kept one).
function resetButton(ctx, it) {
  const { kind, accountId, p } = ctx;
  const b = button('Reset…', { class: 'button small secondary', 'data-action': 'reset', 'aria-label': `Reset ${it.name} to the platform version` });
  b.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Reset “${it.name}”?`,
      body: `Your version is replaced by the platform's current version of this ${kind.short}. The history keeps your version.`,
      confirmLabel: 'Reset to platform version',
      danger: true,
    });
    if (!ok) return;
    try {
      await call(rpc(kind, 'Reset'), { accountId, id: it.id, expectedRevision: it.revision });
      announce(`${it.name} is the platform version again.`);
      await ctx.rerender(`${p}-row-${it.id}`);
    } catch (err) {
      showError(ctx.box, err);
    }
  });
  return b;
}

function deleteButton(ctx, it) {
  const { kind, accountId, p } = ctx;
  const b = button('Delete…', { class: 'button small danger', 'data-action': 'delete', 'aria-label': `Delete ${it.name}` });
  b.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Delete “${it.name}”?`,
      body: `Jobs that name it are refused, and if it is your default, jobs get the platform's. The history keeps it${ctx.editable ? ', and you can restore it from there' : ''}.`,
      confirmLabel: `Delete ${kind.short}`,
      danger: true,
    });
    if (!ok) return;
    try {
      await call(rpc(kind, 'Delete'), { accountId, id: it.id, expectedRevision: it.revision });
      announce(`Deleted ${it.name}.`);
      await ctx.rerender(`${p}-list-title`);
    } catch (err) {
      showError(ctx.box, err);
    }
  });
  return b;
}

// itemEditor edits an own item, customizes a platform one (its platform
// version beside the form) or creates an own one (isNew); read-only when
// the plan does not allow changes.
function itemEditor(ctx, it, isNew, editor) {
  const { kind, accountId, editable, globalByID, level, p } = ctx;
  const global = it && !isOwnItem(it) ? globalByID.get(it.id) : null;
  const titleID = `${p}-form-title`;
  const title = isNew ? `Create ${kind.short === 'profile' ? 'a profile' : 'a strategy'} of your own`
    : !editable ? `“${it.name}”`
      : global ? (it.isCustomized ? `Edit your version of “${global.name}”` : `Customize “${global.name}”`)
        : `Edit “${it.name}”`;
  const { parts, read } = itemForm(kind, isNew ? null : it, { isNew, readOnly: !editable });
  const box = errorBox();
  const close = () => {
    editor.replaceChildren();
    document.getElementById(isNew ? `${p}-list-title` : `${p}-row-${it.id}`)?.focus();
  };
  const form = h('form', { class: 'item-form', novalidate: true, 'aria-labelledby': titleID },
    box,
    ...parts,
    h('div', { class: 'actions' },
      editable ? h('button', { type: 'submit', class: 'button', text: isNew ? `Create ${kind.short}` : global ? 'Save your version' : 'Save' }) : null,
      button(editable ? 'Cancel' : 'Close', { class: 'button secondary', onclick: close })));
  const changed = it?.defaultChanged
    ? notice('warning', h('p', { text: `The platform changed this ${kind.short} after you customized it. Compare its current version with yours; reset to use it.` }))
    : null;
  const card = h('section', { class: 'card item-editor', id: `${p}-form`, 'aria-labelledby': titleID },
    h(`h${level + 1}`, { id: titleID, tabindex: '-1', text: title }),
    isNew ? null : h('p', { class: 'hint' }, 'Id ', h('code', { text: it.id }),
      global ? ` · ${it.isCustomized ? 'your customization' : 'the platform version until you save'}` : ' · your own'),
    changed,
    global
      ? h('div', { class: 'side-by-side' }, form,
        h('div', { class: 'default-text platform-version' },
          h('h4', { text: 'Platform version' }),
          h('p', { class: 'hint', text: global.archived ? 'Archived: no longer offered to other accounts.' : `Revision ${global.revision}.` }),
          itemFacts(kind, global, it.isCustomized ? it : null)))
      : form);
  if (editable) onSubmit(form, box, async () => {
    const msg = read();
    let saved;
    if (isNew) {
      saved = await call(rpc(kind, 'Create'), { accountId, [kind.json]: msg });
    } else {
      msg.id = it.id;
      // The stored item's revision: 0 when the account stores nothing yet.
      saved = await call(rpc(kind, 'Update'), {
        accountId, [kind.json]: msg, updateMask: updateMask(kind), expectedRevision: it.revision || '0',
      });
    }
    announce(isNew ? `Created ${saved.name}.`
      : global && !saved.isCustomized ? `${saved.name} matches the platform version: it is not customized.`
        : `Saved ${saved.name}.`);
    editor.replaceChildren();
    await ctx.rerender(`${p}-row-${saved.id}`);
  });
  return card;
}

// defaultsForm names the item the account's jobs get when they name none
// (SetAccountDefaults): one it can use now, or the platform's default.
function defaultsForm(ctx, items, account, effectiveID) {
  const { kind, accountId, level, p } = ctx;
  const chosen = account[kind.defaultField] || '';
  const usable = new Set(items.map((i) => i.id));
  // The platform's default is what applies when the account names none,
  // or names one it cannot use now.
  const platformID = chosen && usable.has(chosen) ? '' : effectiveID;
  const options = [{ value: '', label: platformID ? `The platform's default (${platformID})` : 'The platform\'s default' },
    ...items.map((i) => ({ value: i.id, label: `${i.name} (${i.id})` }))];
  if (chosen && !usable.has(chosen)) options.push({ value: chosen, label: `${chosen} (not usable now)` });
  const choice = select(options, chosen);
  const box = errorBox();
  const titleID = `${p}-default-title`;
  const state = chosen && !usable.has(chosen)
    ? `Your default ${chosen} cannot be used now (deleted, archived, or not applied on this plan): jobs get ${effectiveID || 'none'}.`
    : `Jobs that name no ${kind.short} get ${effectiveID || 'none'}${chosen ? ' (your choice)' : ' (the platform\'s default)'}.`;
  const form = h('form', { class: 'card', id: `${p}-default`, novalidate: true, 'aria-labelledby': titleID },
    h(`h${level + 1}`, { id: titleID, tabindex: '-1', text: `Default ${kind.short}` }),
    h('p', { class: 'default-state', text: state }),
    box,
    field({ label: `Default ${kind.noun} for jobs`, input: choice, name: kind.defaultPath }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save default' })));
  onSubmit(form, box, async () => {
    await call('AccountService/SetAccountDefaults', {
      accountId, [kind.defaultField]: choice.value, updateMask: kind.defaultField, expectedRevision: account.revision,
    });
    announce(choice.value ? `Jobs that name no ${kind.short} now get ${choice.value}.` : `Jobs that name no ${kind.short} now get the platform's default.`);
    await ctx.rerender(titleID);
  });
  return form;
}
