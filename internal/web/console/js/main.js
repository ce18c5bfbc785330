// The console: sign-in, the sidebar and a router over #/paths.
import { RpcError, session, whoAmI } from './api.js';
import { SECTIONS, match, home } from './nav.js';
import { h, heading, errorBox, showError, notice } from './ui.js';
import { planLabel } from './format.js';
import * as signin from './pages/signin.js';

const main = document.getElementById('main');
const sidebar = document.getElementById('sidebar');
const whoami = document.getElementById('whoami');
const signOutButton = document.getElementById('sign-out');

// Who is signed in (api.js whoAmI): { role: 'admin', tokenName } or
// { role: 'account', tokenName, account: { id, name, plan } }.
let identity = null;
// Why the last session ended (shown on the sign-in page once).
let pendingError = null;
let renderSeq = 0;

function currentPath() {
  const hash = location.hash || '';
  return hash.startsWith('#/') ? hash.slice(1) : '/';
}

export function navigate(path) {
  if (currentPath() === path) render();
  else location.hash = `#${path}`;
}

function renderChrome() {
  const path = currentPath();
  sidebar.replaceChildren();
  if (!identity) {
    sidebar.hidden = true;
    whoami.textContent = '';
    signOutButton.hidden = true;
    return;
  }
  for (const section of SECTIONS.filter((s) => s.role === identity.role)) {
    const headingID = `nav-${section.role}`;
    const list = h('ul', { 'aria-labelledby': headingID });
    for (const item of section.items) {
      const current = path === item.path || path.startsWith(`${item.path}/`);
      list.append(h('li', {}, h('a', { href: `#${item.path}`, 'aria-current': current ? 'page' : false, text: item.label })));
    }
    sidebar.append(h('h2', { id: headingID, text: section.title }), list);
  }
  sidebar.hidden = false;
  const token = identity.tokenName ? ` · token ${identity.tokenName}` : '';
  whoami.textContent = identity.role === 'admin'
    ? `Signed in as a platform admin${token}`
    : `Account ${identity.account.name || identity.account.id} · ${planLabel(identity.account.plan)} plan${token}`;
  signOutButton.hidden = false;
}

// render shows the page of the current #/path.
async function render() {
  const seq = ++renderSeq;
  renderChrome();
  const path = currentPath();
  if (!identity) {
    document.title = 'Sign in · aiconfig';
    signin.render(main, { onSignedIn: signedIn, error: pendingError });
    pendingError = null;
    return;
  }
  const found = match(path);
  if (!found || found.route.role !== identity.role) {
    if (path === '/') {
      navigate(home(identity.role));
      return;
    }
    document.title = 'Not found · aiconfig';
    main.replaceChildren(heading(found ? 'Not available' : 'Page not found'),
      notice('warning', h('p', { text: found ? 'This page is not available to your token.' : `No page at ${path}.` }),
        h('p', {}, h('a', { href: `#${home(identity.role)}`, text: 'Go to the first page' }))));
    main.querySelector('h1').focus();
    return;
  }
  document.title = `${found.route.label} · aiconfig`;
  main.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
  main.setAttribute('aria-busy', 'true');
  try {
    const page = await found.route.page();
    if (seq !== renderSeq) return; // navigated away meanwhile
    const view = h('div', { class: 'page' });
    await page.render(view, { identity, params: found.params, route: found.route, navigate, refreshIdentity });
    if (seq !== renderSeq) return;
    main.replaceChildren(view);
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof RpcError && err.code === 'unauthenticated') {
      // Revoked or expired while signed in: back to the sign-in page, saying why.
      signOut(err);
      return;
    }
    const box = errorBox();
    main.replaceChildren(heading(found.route.label), box);
    showError(box, err);
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  if (seq === renderSeq) (main.querySelector('h1') || main).focus();
}

async function refreshIdentity() {
  identity = await whoAmI(session.token());
  renderChrome();
  return identity;
}

function signedIn(token, who) {
  session.signIn(token);
  identity = who;
  const path = currentPath();
  const found = match(path);
  if (found && found.route.role === who.role) render();
  else navigate(home(who.role));
}

function signOut(reason) {
  session.signOut();
  identity = null;
  pendingError = reason || null;
  render(); // the sign-in form, on the same #path: signing in again returns here
}

signOutButton.addEventListener('click', () => signOut());
document.getElementById('skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  (main.querySelector('h1') || main).focus();
});
window.addEventListener('hashchange', render);

// A token from earlier in this tab: check it still works, and who it is.
async function start() {
  const token = session.token();
  if (token) {
    try {
      identity = await whoAmI(token);
    } catch (err) {
      session.signOut();
      pendingError = err;
    }
  }
  render();
}

start();
