// Audit Log: every write and every denied write attempt, newest first,
// filtered by account, resource (or a prefix ending in "/") and actor.
import { call } from '../api.js';
import {
  h, field, button, errorBox, onSubmit, heading, badge, failed, scrollablePre,
} from '../ui.js';
import { dateTime, roleLabel } from '../format.js';

const PAGE_SIZE = 50;

export async function render(view) {
  view.append(heading('Audit Log', 'Every change, who made it and through which call; API keys appear only as their hint.'));
  const account = h('input', { type: 'text', autocomplete: 'off' });
  const resource = h('input', { type: 'text', autocomplete: 'off' });
  const actor = h('input', { type: 'text', autocomplete: 'off' });
  const results = h('div', { id: 'audit-results' });
  const box = errorBox();
  const filters = () => ({ accountId: account.value.trim(), resource: resource.value.trim(), actorName: actor.value.trim() });
  const form = h('form', { class: 'card', novalidate: true, role: 'search', 'aria-label': 'Filter the audit log' },
    box,
    h('div', { class: 'row' },
      field({ label: 'Account id', input: account, name: 'account_id' }),
      field({ label: 'Resource', input: resource, name: 'resource', hint: 'Exact, or a prefix ending in "/", e.g. accounts/acme/.' }),
      field({ label: 'Actor name', input: actor, name: 'actor_name' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Show events' })));
  onSubmit(form, box, () => drawPage(results, filters(), '', []));
  view.append(form, results);
  await drawPage(results, filters(), '', []);
}

function json(v) {
  return v === undefined || v === null ? '—' : JSON.stringify(v, null, 2);
}

async function drawPage(results, filters, pageToken, previous) {
  const res = await call('AuditService/ListAuditEvents', { ...filters, pageSize: PAGE_SIZE, pageToken });
  const events = res.events || [];
  const rows = events.map((e) => h('tr', { 'data-event': e.id },
    h('td', {}, h('time', { datetime: e.createTime, text: dateTime(e.createTime) }),
      e.requestId ? h('span', { class: 'hint request-id', text: `request ${e.requestId}` }) : null),
    h('td', {}, e.actorName || '—', h('br'), h('span', { class: 'hint', text: roleLabel(e.actorRole) })),
    h('td', {}, h('code', { class: 'rpc', title: e.rpc, 'data-rpc': e.rpc, text: e.rpc.replace(/^\/aiconfig\.v1\./, '') })),
    h('td', {}, h('code', { text: e.resource })),
    h('td', {}, e.outcome === 'denied' ? badge(`denied: ${e.reason}`, 'warning') : badge(e.outcome || 'ok', 'ok')),
    h('td', {},
      h('details', {}, h('summary', { text: 'Before and after' }),
        h('div', { class: 'side-by-side' },
          h('div', {}, h('h4', { text: 'Before' }), scrollablePre('', json(e.before), `Before, event ${e.id}`)),
          h('div', {}, h('h4', { text: 'After' }), scrollablePre('', json(e.after), `After, event ${e.id}`)))))));
  const prev = previous.length ? button('Newer events', {
    class: 'button secondary', onclick: () => drawPage(results, filters, previous[previous.length - 1], previous.slice(0, -1)).catch((err) => failed(results, err)),
  }) : null;
  const next = res.nextPageToken ? button('Older events', {
    class: 'button secondary', onclick: () => drawPage(results, filters, res.nextPageToken, [...previous, pageToken]).catch((err) => failed(results, err)),
  }) : null;
  results.replaceChildren(
    h('table', { class: 'data audit' },
      h('caption', { text: events.length ? 'Events, newest first' : 'No events match' }),
      h('thead', {}, h('tr', {}, ...['Time', 'Actor', 'Call', 'Resource', 'Outcome', 'Changes'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows)),
    h('div', { class: 'actions' }, prev, next));
}
