// Global Author Profiles and Global Strategies (one module; the sidebar
// entry names the kind): the platform library with archived items
// flagged, create and edit (UpsertGlobal…, the item replaced whole),
// archive and unarchive, the platform default, the plan limits on
// accounts' own items, and the history with restore.
import { call } from '../api.js';
import {
  h, field, select, button, errorBox, onSubmit, showError, announce, heading, badge, confirmDialog, redrawing,
} from '../ui.js';
import { PLANS, planLabel } from '../format.js';
import { KINDS, rpc, itemForm } from '../kinds.js';
import { historySection } from '../history.js';

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

export async function render(view, { route }) {
  const kind = KINDS[route.kind];
  view.append(heading(route.label,
    `The platform's library of ${kind.nouns}. Accounts on Starter and above may customize one (keeping the platform version to compare and reset to) or add their own, up to their plan's limit.`));
  const body = h('div');
  view.append(body);
  await draw(body, kind);
}

// draw renders the page from fresh answers; every change redraws it and
// moves focus to focusID. Meanwhile the page is busy and inert: what it
// shows is about to be replaced, so an edit begun on it would be lost.
async function draw(body, kind, focusID) {
  await redrawing(body, () => drawPage(body, kind));
  if (focusID) document.getElementById(focusID)?.focus();
}

async function drawPage(body, kind) {
  const [listed, settings, limits] = await Promise.all([
    call(rpc(kind, 'ListGlobal', { plural: true }), {}),
    call('ConfigService/GetGlobalSettings', {}),
    call('ConfigService/ListPlanLimits', {}),
  ]);
  const items = listed[kind.listField] || [];
  const platformDefault = settings[kind.defaultField] || '';
  const redraw = (id) => draw(body, kind, id);
  const editor = h('div', { id: `${kind.key}-editor` });
  const rowsBox = errorBox();
  const history = historySection({
    kind, accountId: '', canRestore: true, idPrefix: `global-${kind.key}`,
    items: new Map(items.map((i) => [i.id, { name: i.name, revision: i.revision }])),
    onRestored: (id) => redraw(`${kind.key}-row-${id}`),
  });
  const edit = (item) => {
    editor.replaceChildren(globalForm(kind, item, editor, redraw));
    editor.querySelector('h3').focus();
  };
  const rows = items.map((it) => itemRow(kind, it, { platformDefault, edit, redraw, box: rowsBox, history }));
  body.replaceChildren(
    h('div', { class: 'row cards' }, defaultForm(kind, items, settings, redraw), limitsCard(kind, limits.planLimits || [], redraw)),
    h('h2', { id: `${kind.key}-library-title`, tabindex: '-1', text: 'Library' }),
    h('div', { class: 'actions' }, button(`Add ${kind.short === 'profile' ? 'a profile' : 'a strategy'}`, {
      'data-action': 'add', onclick: () => edit(null),
    })),
    editor,
    rowsBox,
    h('table', { class: 'data items', id: `${kind.key}-table` },
      h('caption', { text: items.length ? `${cap(kind.nouns)}, by id` : `No ${kind.nouns} yet` }),
      h('thead', {}, h('tr', {}, ...[cap(kind.short), ...kind.columns.map((c) => c.label), 'State', 'Actions']
        .map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows)),
    history.card);
  await history.load();
}

function itemRow(kind, it, { platformDefault, edit, redraw, box, history }) {
  const isDefault = it.id === platformDefault;
  const badges = [];
  if (it.archived) badges.push(badge('archived', 'warning'));
  else badges.push(badge('offered', 'ok'));
  if (isDefault) badges.push(badge('platform default', 'global'));
  const archive = button(it.archived ? 'Unarchive' : 'Archive…', {
    class: 'button small secondary', 'data-action': it.archived ? 'unarchive' : 'archive',
    'aria-label': `${it.archived ? 'Unarchive' : 'Archive'} ${it.name}`,
  });
  archive.addEventListener('click', async () => {
    if (!it.archived) {
      const ok = await confirmDialog({
        title: `Archive “${it.name}”?`,
        body: [`It is no longer offered to accounts, nor usable as their default. Accounts that customized it keep their version; the others stop seeing it.`,
          'Unarchive it to offer it again.'],
        confirmLabel: 'Archive',
        danger: true,
      });
      if (!ok) return;
    }
    try {
      await call(rpc(kind, 'UpsertGlobal'), { [kind.json]: { ...content(kind, it), archived: !it.archived }, expectedRevision: it.revision });
      announce(`${it.archived ? 'Unarchived' : 'Archived'} ${it.name}.`);
      await redraw(`${kind.key}-row-${it.id}`);
    } catch (err) {
      showError(box, err);
    }
  });
  return h('tr', { id: `${kind.key}-row-${it.id}`, tabindex: '-1', 'data-item': it.id, class: it.archived ? 'archived' : '' },
    h('th', { scope: 'row' }, h('span', { class: 'item-name', text: it.name }), h('br'), h('code', { text: it.id }),
      it.description ? h('p', { class: 'hint', text: it.description }) : null),
    ...kind.columns.map((c) => h('td', {}, c.value(it))),
    h('td', { class: 'state' }, ...badges),
    h('td', { class: 'row-actions' },
      button('Edit', { class: 'button small secondary', 'data-action': 'edit', 'aria-label': `Edit ${it.name}`, onclick: () => edit(it) }),
      archive,
      button('History', {
        class: 'button small secondary', 'data-action': 'history', 'aria-label': `History of ${it.name}`,
        onclick: () => history.show(it.id).catch((err) => showError(box, err)),
      })));
}

// content is the part of an item UpsertGlobal… takes: id and content
// fields (archived is added by the caller).
function content(kind, it) {
  const out = { id: it.id };
  for (const f of kind.fields) if (it[f.json] !== undefined) out[f.json] = it[f.json];
  return out;
}

// globalForm edits a global item, or adds one (item null). The item is
// replaced whole, so every field is sent; a new one's expected revision
// is 0, so an id that exists is refused instead of overwritten.
function globalForm(kind, item, editor, redraw) {
  const isNew = !item;
  const titleID = `${kind.key}-form-title`;
  const { parts, read } = itemForm(kind, item, { isNew });
  const box = errorBox();
  const cancel = button('Cancel', { class: 'button secondary', onclick: () => { editor.replaceChildren(); document.getElementById(`${kind.key}-library-title`)?.focus(); } });
  const form = h('form', { class: 'card item-editor', id: `${kind.key}-form`, novalidate: true, 'aria-labelledby': titleID },
    h('h3', { id: titleID, tabindex: '-1', text: isNew ? `Add a global ${kind.noun}` : `Edit “${item.name}”` }),
    isNew ? null : h('p', { class: 'hint' }, 'Id ', h('code', { text: item.id }), item.archived ? ' · archived (saving keeps it archived)' : '',
      ` · revision ${item.revision}. Accounts that did not customize it use the new version at once; customized ones see "default changed".`),
    box,
    ...parts,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: isNew ? `Add ${kind.noun}` : 'Save' }), cancel));
  onSubmit(form, box, async () => {
    const msg = { ...read(), archived: item?.archived || false };
    if (!isNew) msg.id = item.id;
    let saved;
    try {
      saved = await call(rpc(kind, 'UpsertGlobal'), { [kind.json]: msg, expectedRevision: isNew ? '0' : item.revision });
    } catch (err) {
      if (isNew && err.reason === 'REVISION_MISMATCH') {
        err.fieldViolations = [{ field: `${kind.key}.id`, description: `a global ${kind.noun} with id "${msg.id}" exists already; edit it instead` }];
      }
      throw err;
    }
    announce(`Saved ${saved.name}.`);
    editor.replaceChildren();
    await redraw(`${kind.key}-row-${saved.id}`);
  });
  return form;
}

// defaultForm chooses the platform's default item: what a job gets when
// it names none and its account has no usable default of its own.
function defaultForm(kind, items, settings, redraw) {
  const current = settings[kind.defaultField] || '';
  const options = [{ value: '', label: 'None' },
    ...items.filter((i) => !i.archived || i.id === current).map((i) => ({ value: i.id, label: `${i.name} (${i.id})${i.archived ? ' — archived' : ''}` }))];
  const choice = select(options, current);
  const box = errorBox();
  const titleID = `${kind.key}-default-title`;
  const form = h('form', { class: 'card', id: `${kind.key}-default`, novalidate: true, 'aria-labelledby': titleID },
    h('h2', { id: titleID, tabindex: '-1', text: 'Platform default' }),
    box,
    field({
      label: `Default ${kind.noun}`, input: choice, name: `settings.${kind.defaultPath}`,
      hint: `What a generation job gets when it names no ${kind.short} and its account has no usable default. An archived ${kind.short} cannot be the default, nor the default be archived.`,
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save default' })));
  onSubmit(form, box, async () => {
    const next = await call('ConfigService/UpdateGlobalSettings', {
      settings: { [kind.defaultField]: choice.value }, updateMask: kind.defaultField, expectedRevision: settings.revision,
    });
    announce(next[kind.defaultField] ? `The platform default ${kind.noun} is ${next[kind.defaultField]}.` : `No platform default ${kind.noun}.`);
    await redraw(titleID);
  });
  return form;
}

// limitsCard sets how many items of their own accounts of each plan may
// keep; one small form per plan, so an error sits beside its plan.
function limitsCard(kind, limits, redraw) {
  const titleID = `${kind.key}-limits-title`;
  const forms = PLANS.filter((p) => p.value !== 'PLAN_FREE').map((p) => {
    const limit = limits.find((l) => l.plan === p.value && l.kind === kind.enum);
    const input = h('input', { type: 'number', min: '0', max: '10000', step: '1', inputmode: 'numeric', value: String(limit?.maxItems ?? 0), class: 'short' });
    const box = errorBox();
    const form = h('form', { class: 'limit-form', id: `${kind.key}-limit-${p.value}`, novalidate: true, 'aria-label': `${p.label} plan limit` },
      box,
      field({ label: `${p.label} plan`, input, name: 'plan_limit.max_items', hint: '0–10,000.' }),
      h('button', { type: 'submit', class: 'button small', 'aria-label': `Save the ${p.label} limit`, text: 'Save' }));
    onSubmit(form, box, async () => {
      const raw = input.value.trim();
      const n = Number(raw);
      const req = { planLimit: { plan: p.value, kind: kind.enum, maxItems: raw !== '' && Number.isInteger(n) ? n : raw } };
      if (limit) req.expectedRevision = limit.revision;
      const saved = await call('ConfigService/UpdatePlanLimit', req);
      announce(`${planLabel(saved.plan)} accounts may keep ${saved.maxItems ?? 0} ${kind.nouns} of their own.`);
      await redraw(titleID);
    });
    return form;
  });
  return h('section', { class: 'card', id: `${kind.key}-limits`, 'aria-labelledby': titleID },
    h('h2', { id: titleID, tabindex: '-1', text: 'Plan limits' }),
    h('p', { class: 'hint', text: `How many ${kind.nouns} of their own the accounts of each plan may keep (Free keeps none). Lowering a limit deletes nothing; it stops new ones.` }),
    h('div', { class: 'row limits' }, ...forms));
}
