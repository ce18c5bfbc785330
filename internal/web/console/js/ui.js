// Small DOM helpers. Everything is built with createElement and
// textContent, never innerHTML, so no value from the service (prompt text,
// account names) can become markup. No inline styles: classes and the
// hidden attribute only (the Content-Security-Policy forbids the rest).

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'readOnly', 'multiple']);

// h creates an element: h('p', {class: 'hint', text: 'Hello'}, child...).
// Keys starting with "on" add listeners; value/checked/... set properties;
// anything else is an attribute (false, null and undefined are skipped).
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let nextID = 0;
export function uid(prefix = 'f') {
  nextID += 1;
  return `${prefix}${nextID}`;
}

// field wraps an input with its label, an optional hint and a slot for its
// error; name is the request field path the server names in violations
// (e.g. "override.temperature"), so errors land beside the right input.
export function field({ label, input, hint, name, inline = false }) {
  if (!input.id) input.id = uid();
  if (name) input.dataset.field = name;
  const labelEl = h('label', { for: input.id, text: label });
  const described = [];
  const parts = inline ? [input, labelEl] : [labelEl, input];
  if (hint) {
    const hintEl = h('p', { class: 'hint', id: `${input.id}-hint` });
    if (hint instanceof Node) hintEl.append(hint); else hintEl.textContent = hint;
    parts.push(hintEl);
    described.push(hintEl.id);
  }
  parts.push(h('p', { class: 'field-error', id: `${input.id}-error`, hidden: true }));
  if (described.length) input.setAttribute('aria-describedby', described.join(' '));
  return h('div', { class: inline ? 'field field-inline' : 'field' }, ...parts);
}

export function select(options, value, props = {}) {
  const el = h('select', props);
  for (const o of options) {
    const opt = typeof o === 'string' ? { value: o, label: o } : o;
    el.append(h('option', { value: opt.value, text: opt.label, selected: opt.value === value }));
  }
  return el;
}

export function button(label, props = {}) {
  return h('button', { type: 'button', class: 'button', ...props }, label);
}

// errorBox is where a form's failures are reported (role=alert, focusable).
export function errorBox() {
  return h('div', { class: 'error-box', tabindex: '-1', hidden: true });
}

function inputFor(form, path) {
  if (!form || !path) return null;
  const byName = (p) => form.querySelector(`[data-field="${CSS.escape(p)}"]`);
  // "prompt.variables[2]" falls back to "prompt.variables".
  return byName(path) || byName(path.replace(/\[[^\]]*\]/g, ''));
}

export function clearErrors(form, box) {
  if (box) {
    box.hidden = true;
    box.replaceChildren();
    box.removeAttribute('role');
  }
  if (!form) return;
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) {
    input.removeAttribute('aria-invalid');
    const err = document.getElementById(`${input.id}-error`);
    if (err) {
      err.hidden = true;
      err.textContent = '';
    }
    const ids = (input.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== `${input.id}-error`);
    if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
    else input.removeAttribute('aria-describedby');
  }
}

function markInvalid(input, text) {
  input.setAttribute('aria-invalid', 'true');
  const err = document.getElementById(`${input.id}-error`);
  if (!err) return;
  err.textContent = text;
  err.hidden = false;
  const ids = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  if (!ids.includes(err.id)) ids.push(err.id);
  input.setAttribute('aria-describedby', ids.join(' '));
}

// showError reports err in box: message, code, reason, metadata and every
// field violation; each violation is also shown beside its input (linked
// with aria-describedby), and focus moves to the first bad input, else to
// the box. fallbackField names the input an error without violations
// belongs to (e.g. the token on the sign-in form).
export function showError(box, err, form, fallbackField) {
  clearErrors(form, box);
  const code = String(err.code || 'unknown').toUpperCase();
  const reason = err.reason || '';
  box.append(h('p', { class: 'error-title' }, h('strong', { text: 'Error: ' }), err.message || String(err)));
  const facts = h('dl', { class: 'error-facts' },
    h('dt', { text: 'Code' }), h('dd', { class: 'error-code', text: code }));
  if (reason) facts.append(h('dt', { text: 'Reason' }), h('dd', { class: 'error-reason', text: reason }));
  for (const [k, v] of Object.entries(err.metadata || {})) {
    facts.append(h('dt', { text: k }), h('dd', { text: v }));
  }
  box.append(facts);
  let first = null;
  const violations = err.fieldViolations || [];
  if (violations.length) {
    const list = h('ul', { class: 'violations' });
    for (const v of violations) {
      list.append(h('li', {}, h('code', { class: 'field-name', text: v.field }), ` — ${v.description}`));
      const input = inputFor(form, v.field);
      if (input) {
        // Several violations of one field read as one message.
        const err = document.getElementById(`${input.id}-error`);
        const before = input.getAttribute('aria-invalid') === 'true' && err ? `${err.textContent} ` : '';
        markInvalid(input, `${before}${v.description} (${v.field}, ${reason || code}).`);
        first = first || input;
      }
    }
    box.append(h('p', { class: 'error-fields', text: 'Fields to fix:' }), list);
  } else if (fallbackField) {
    const input = inputFor(form, fallbackField);
    if (input) {
      markInvalid(input, `${err.message} (${reason || code})`);
      first = input;
    }
  }
  box.setAttribute('role', 'alert');
  box.hidden = false;
  (first || box).focus();
}

// failed reports an error of an action with no form of its own (paging,
// for instance) at the top of container.
export function failed(container, err) {
  const box = errorBox();
  container.prepend(box);
  showError(box, err);
}

// redrawing runs fn, which replaces what container shows with fresh
// answers, with the container busy and inert meanwhile: an edit begun on
// content about to be replaced would be lost.
export async function redrawing(container, fn) {
  container.setAttribute('aria-busy', 'true');
  container.inert = true;
  try {
    return await fn();
  } finally {
    container.inert = false;
    container.removeAttribute('aria-busy');
  }
}

// announce says something to screen readers and shows it as a toast.
let toastTimer = 0;
export function announce(text) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('visible'), 6000);
}

// busy disables a form's controls while a call runs.
export async function busy(form, fn) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')].filter((c) => !c.disabled);
  form.setAttribute('aria-busy', 'true');
  for (const c of controls) c.disabled = true;
  try {
    return await fn();
  } finally {
    for (const c of controls) c.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

// onSubmit wires a form: on submit, clear old errors, ask confirm() first
// if given (false cancels), run fn while the form is busy, and report a
// failure in box.
export function onSubmit(form, box, fn, { fallbackField, confirm } = {}) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    try {
      if (confirm && !(await confirm())) return;
      await busy(form, fn);
    } catch (err) {
      showError(box, err, form, fallbackField);
    }
  });
}

// confirmDialog asks before a change that cannot be taken back; resolves
// true when confirmed. A modal <dialog> keeps focus inside and Escape
// cancels; focus returns to where it was.
export function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false }) {
  const opener = document.activeElement;
  const titleID = uid('dlg');
  const cancel = button('Cancel', { class: 'button secondary', value: 'cancel' });
  const ok = button(confirmLabel, { class: danger ? 'button danger' : 'button', value: 'ok', 'data-confirm': '' });
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleID },
    h('h2', { id: titleID, text: title }),
    ...(Array.isArray(body) ? body : [body]).map((b) => (b instanceof Node ? b : h('p', { text: b }))),
    h('div', { class: 'actions' }, cancel, ok));
  document.body.append(dlg);
  return new Promise((resolve) => {
    cancel.addEventListener('click', () => dlg.close('cancel'));
    ok.addEventListener('click', () => dlg.close('ok'));
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
    });
    dlg.showModal();
    cancel.focus();
  });
}

// heading is a page's h1, focusable so navigation can move focus to it.
export function heading(text, sub) {
  return h('header', { class: 'page-header' },
    h('h1', { tabindex: '-1', text }),
    sub ? h('p', { class: 'page-sub', text: sub }) : null);
}

// scrollablePre is a block of long text that may scroll: focusable, so a
// keyboard can scroll it (WCAG 2.1.1), and named, so a screen reader says
// what it is when it takes focus.
export function scrollablePre(cls, text, label) {
  return h('pre', { class: cls, text, tabindex: '0', role: 'region', 'aria-label': label });
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim(), text });
}

export function notice(kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: 'note' }, ...children);
}

export function loading(view) {
  view.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
}

// optionalNumber reads a number input: undefined when empty (meaning "use
// the default"), else the number; text that is not a finite number is sent
// as typed, so the service says what is wrong with it (JSON would turn NaN
// into null, which means "unset").
export function optionalNumber(input) {
  const raw = input.value.trim();
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

export function optionalText(input) {
  const raw = input.value.trim();
  return raw === '' ? undefined : raw;
}
