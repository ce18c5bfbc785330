// Sign-in: paste a token. It is checked with the service, then kept in
// this tab's sessionStorage only.
import { whoAmI } from '../api.js';
import { h, field, errorBox, onSubmit, showError } from '../ui.js';

export function render(main, { onSignedIn, error }) {
  const input = h('input', {
    type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', class: 'wide',
  });
  const box = errorBox();
  const form = h('form', { class: 'card signin', novalidate: true, 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', tabindex: '-1', text: 'Sign in' }),
    h('p', { text: 'Paste a bearer token: an admin token for the platform settings, or your account token for your account\'s settings.' }),
    box,
    field({
      label: 'Token',
      input,
      name: 'token',
      hint: 'Tokens start with aic_. The console keeps it in this browser tab only and forgets it when the tab closes.',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Sign in' })));
  onSubmit(form, box, async () => {
    const token = input.value.trim();
    if (!token) {
      throw { code: 'unauthenticated', reason: 'TOKEN_MISSING', message: 'enter a token' };
    }
    const who = await whoAmI(token);
    input.value = '';
    onSignedIn(token, who);
  }, { fallbackField: 'token' });
  main.replaceChildren(h('div', { class: 'page' }, form));
  if (error) showError(box, error, form, 'token');
  else input.focus();
}
