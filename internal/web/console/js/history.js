// The history of a kind's items (HistoryService.ListHistory), newest
// first, with "Restore this version" (RestoreVersion): the global
// library's for admins (accountId ""), an account's for the account.
import { call } from './api.js';
import {
  h, field, select, button, badge, errorBox, showError, announce, confirmDialog, failed,
} from './ui.js';
import { dateTime, roleLabel } from './format.js';
import { itemFacts, changedFields } from './kinds.js';
import { diffView } from './diff.js';

const PAGE_SIZE = 20;

const ACTIONS = {
  upsert_global: 'saved',
  customize: 'customized',
  reset: 'reset to the platform version',
  bulk_reset: 'reset to the platform version (bulk)',
  create: 'created',
  update: 'edited',
  delete: 'deleted',
  restore: 'restored an earlier version',
};

// historySection returns a card listing the changes. items are the kind's
// items as the page knows them (id → { name, revision }): their current
// revision goes with a restore as expected_revision, so a restore over a
// change made since the page loaded is refused (REVISION_MISMATCH) rather
// than silently undoing it. onRestored redraws the page.
//
// itemId fixes the section to one item (no filter). For prompts, items
// may carry the current text: each older version then shows its
// difference from it.
export function historySection({ kind, accountId, items, canRestore, onRestored, level = 2, idPrefix, itemId }) {
  const titleID = `${idPrefix}-history-title`;
  const filter = select([{ value: itemId || '', label: `Every ${kind.short}` },
    ...[...items.entries()].map(([id, it]) => ({ value: id, label: `${it.name || id} (${id})` }))], itemId || '');
  const list = h('div', { class: 'history-entries' });
  const box = errorBox();
  const card = h('section', { class: 'card history-card', id: `${idPrefix}-history`, 'aria-labelledby': titleID },
    h(`h${level}`, { id: titleID, tabindex: '-1', text: 'History' }),
    h('p', { class: 'hint', text: canRestore
      ? `Every change, newest first. Restoring a version is itself a change: the ${kind.short} gets that version's content, and the history keeps what it replaces.`
      : 'Every change, newest first.' }),
    box,
    itemId ? null : h('div', { class: 'row' }, field({ label: `Show changes of`, input: filter, name: 'item_id' })),
    list);
  const draw = async (pageToken, previous) => {
    const res = await call('HistoryService/ListHistory', {
      accountId, kind: kind.enum, itemId: filter.value, pageSize: PAGE_SIZE, pageToken,
    });
    const entries = res.entries || [];
    const prev = previous.length ? button('Newer changes', {
      class: 'button secondary', onclick: () => draw(previous[previous.length - 1], previous.slice(0, -1)).catch((err) => failed(list, err)),
    }) : null;
    const next = res.nextPageToken ? button('Older changes', {
      class: 'button secondary', onclick: () => draw(res.nextPageToken, [...previous, pageToken]).catch((err) => failed(list, err)),
    }) : null;
    list.replaceChildren(
      entries.length
        ? h('ol', { class: 'history-list' }, ...entries.map((e) => entryView({ e, kind, accountId, items, canRestore, onRestored, box })))
        : h('p', { text: 'No changes recorded.' }),
      h('div', { class: 'actions' }, prev, next));
  };
  filter.addEventListener('change', () => draw('', []).catch((err) => showError(box, err)));
  return {
    card,
    load: () => draw('', []),
    // show filters to one item and brings the section into view.
    show: async (id) => {
      filter.value = id;
      await draw('', []);
      card.scrollIntoView({ block: 'start' });
      document.getElementById(titleID)?.focus();
    },
  };
}

function entryView({ e, kind, accountId, items, canRestore, onRestored, box }) {
  const read = kind.version || ((v) => v);
  const before = read(e.before?.[kind.json]);
  const after = read(e.after?.[kind.json]);
  const name = after?.name || before?.name || (kind.itemLabel ? kind.itemLabel(e.itemId) : e.itemId);
  const changed = before && after ? changedFields(kind, before, after) : [];
  // The newest entry of an item holds the version it has now: nothing to
  // restore.
  const cur = items.get(e.itemId);
  const current = cur?.revision === e.revision;
  const restore = canRestore && after && !current
    ? button('Restore this version', {
      class: 'button small secondary', 'data-action': 'restore', 'data-entry': e.id,
      // The name starts with the visible text (WCAG 2.5.3, label in name).
      'aria-label': `Restore this version of ${name}, from ${dateTime(e.createTime)}`,
    })
    : null;
  restore?.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Restore “${name}”?`,
      body: [`It gets the content it had after this change (${ACTIONS[e.action] || e.action}, ${dateTime(e.createTime)}).`,
        'This is a new change; the history keeps the current version.'],
      confirmLabel: 'Restore version',
    });
    if (!ok) return;
    try {
      const req = { accountId, entryId: e.id };
      // An item the page does not list (deleted, or not usable now) has
      // no revision to check against.
      const now = items.get(e.itemId);
      if (now) req.expectedRevision = now.revision || '0';
      const res = await call('HistoryService/RestoreVersion', req);
      announce(`Restored ${name} to the version of ${dateTime(e.createTime)} (revision ${res.revision}).`);
      await onRestored(e.itemId);
    } catch (err) {
      showError(box, err);
    }
  });
  return h('li', { class: 'history-entry', 'data-entry': e.id, 'data-item': e.itemId },
    h('p', {},
      h('strong', { text: name }), ' ', h('code', { text: e.itemId }), ` ${ACTIONS[e.action] || e.action}`,
      ` by ${e.actorName || 'unknown'}${e.actorRole ? ` (${roleLabel(e.actorRole)})` : ''}, `,
      h('time', { datetime: e.createTime, text: dateTime(e.createTime) }),
      h('span', { class: 'hint', text: ` · revision ${e.revision}` })),
    changed.length ? h('p', { class: 'hint', text: `Changed: ${changed.join(', ')}.` }) : null,
    // A global item's entry says whether it was archived after the change
    // (a restore keeps the item's current flag).
    after?.archived ? h('p', {}, badge('archived after this change', 'muted')) : null,
    after
      ? h('details', {}, h('summary', { text: 'This version' }), itemFacts(kind, after),
        !current && cur?.text !== undefined && after.text !== undefined
          ? diffView(cur.text, after.text, { label: `Difference of this version of ${name} from the current text`, fromName: 'the current text', toName: 'This version' })
          : null)
      : h('p', { class: 'hint', text: 'No version after this change: it was deleted.' }),
    current ? h('p', {}, badge('current version', 'ok')) : null,
    restore ? h('div', { class: 'actions' }, restore) : null);
}
