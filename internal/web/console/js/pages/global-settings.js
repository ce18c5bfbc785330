// Global Settings – Platform API Keys: the providers' keys (write-only:
// shown only as a hint), default models and parameters, and which provider
// serves text and image functions.
import { call } from '../api.js';
import {
  h, field, select, button, errorBox, onSubmit, announce, heading, badge, confirmDialog,
  optionalNumber, optionalText,
} from '../ui.js';
import { INTEGRATIONS, PARAMS, modelLimits } from '../format.js';

export async function render(view) {
  view.append(heading('Global Settings – Platform API Keys',
    'Every account uses these keys. Models and parameters here are the defaults accounts start from.'));
  const body = h('div');
  view.append(body);
  const [settings, catalog] = await Promise.all([
    call('ConfigService/GetGlobalSettings', {}),
    call('ConfigService/ListModels', { includeDisabled: false }),
  ]);
  draw(body, settings, catalog.models || []);
}

// draw renders from an answer; each save redraws from the one it returns.
function draw(body, settings, models, focusID) {
  const redraw = (next, id) => draw(body, next, models, id);
  body.replaceChildren(
    routingForm(settings, redraw),
    ...INTEGRATIONS.map((integ) => providerSection(integ, settings, models.filter((m) => m.integration === integ.value), redraw)));
  if (focusID) document.getElementById(focusID)?.focus();
}

function routingForm(settings, redraw) {
  const text = select(INTEGRATIONS.filter((i) => i.kind === 'text').map((i) => ({ value: i.value, label: i.label })), settings.textIntegration);
  const image = select(INTEGRATIONS.filter((i) => i.kind === 'image').map((i) => ({ value: i.value, label: i.label })), settings.imageIntegration);
  const box = errorBox();
  const form = h('form', { class: 'card', id: 'routing', novalidate: true, 'aria-labelledby': 'routing-title' },
    h('h2', { id: 'routing-title', tabindex: '-1', text: 'Providers' }),
    box,
    h('div', { class: 'row' },
      field({ label: 'Text functions use', input: text, name: 'settings.text_integration' }),
      field({ label: 'Image functions use', input: image, name: 'settings.image_integration' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save providers' })));
  onSubmit(form, box, async () => {
    const next = await call('ConfigService/UpdateGlobalSettings', {
      settings: { textIntegration: text.value, imageIntegration: image.value },
      updateMask: 'textIntegration,imageIntegration',
      expectedRevision: settings.revision,
    });
    announce('Saved the providers.');
    redraw(next, 'routing-title');
  });
  return form;
}

function providerSection(integ, settings, models, redraw) {
  const d = settings[integ.key] || {};
  const titleID = `provider-${integ.key}-title`;
  return h('section', { class: 'card provider', id: `provider-${integ.key}`, 'aria-labelledby': titleID },
    h('h2', { id: titleID, tabindex: '-1' }, integ.label, ' ',
      d.apiKeySet ? badge('key set', 'ok') : badge('no key', 'warning')),
    apiKeyBlock(integ, d, settings.revision, redraw, titleID),
    defaultsForm(integ, d, settings.revision, models, redraw, titleID));
}

// The key: its state and hint, and a form to set or replace it. The key
// typed is sent once and cleared from the page; it is never shown.
function apiKeyBlock(integ, d, revision, redraw, titleID) {
  const state = h('p', { class: 'key-state', id: `key-${integ.key}-state` },
    d.apiKeySet
      ? ['API key: set, ending ', h('code', { class: 'key-hint', text: d.apiKeyHint || '(too short to hint)' })]
      : 'API key: not set. Workers cannot call this provider until it is.');
  const input = h('input', {
    type: 'password', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', class: 'wide',
  });
  const box = errorBox();
  const cancel = button('Cancel', { class: 'button secondary' });
  const form = h('form', { class: 'key-form', id: `key-${integ.key}-form`, novalidate: true, hidden: true },
    box,
    field({
      label: `New ${integ.label} API key`, input, name: `settings.${integ.key}.api_key`,
      hint: 'Write-only: after saving, only its last four characters are ever shown.',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save key' }), cancel));
  const open = button(d.apiKeySet ? 'Replace API key…' : 'Set API key…', { class: 'button secondary', 'aria-expanded': 'false', 'aria-controls': form.id });
  const close = () => {
    input.value = '';
    form.hidden = true;
    open.setAttribute('aria-expanded', 'false');
    open.focus();
  };
  open.addEventListener('click', () => {
    form.hidden = false;
    open.setAttribute('aria-expanded', 'true');
    input.focus();
  });
  cancel.addEventListener('click', close);
  const missing = () => ({
    code: 'invalid_argument', reason: 'VALIDATION_FAILED', message: 'enter the key',
    fieldViolations: [{ field: `settings.${integ.key}.api_key`, description: 'is required' }],
  });
  onSubmit(form, box, async () => {
    const key = input.value.trim();
    if (!key) throw missing();
    const next = await call('ConfigService/UpdateGlobalSettings', {
      settings: { [integ.key]: { apiKey: key } },
      updateMask: `${integ.key}.apiKey`,
      expectedRevision: revision,
    });
    input.value = '';
    announce(`Saved the ${integ.label} API key; it ends ${next[integ.key]?.apiKeyHint || '(hidden)'}.`);
    redraw(next, titleID);
  }, {
    // Every worker switches to the key at its next call (a wrong one stops
    // them all): ask first.
    confirm: async () => {
      if (!input.value.trim()) throw missing();
      return d.apiKeySet
        ? confirmDialog({
          title: `Replace the ${integ.label} API key?`,
          body: `Every worker uses the new key from its next call. The current key (ending ${d.apiKeyHint}) is discarded.`,
          confirmLabel: 'Replace key',
          danger: true,
        })
        : confirmDialog({
          title: `Set the ${integ.label} API key?`,
          body: `Every worker calling ${integ.label} uses it from its next call.`,
          confirmLabel: 'Set key',
        });
    },
  });
  return h('div', { class: 'key-block' }, state, h('div', { class: 'actions' }, open), form);
}

function defaultsForm(integ, d, revision, models, redraw, titleID) {
  const modelOptions = models.map((m) => ({ value: m.model, label: m.displayName ? `${m.displayName} (${m.model})` : m.model }));
  if (d.model && !models.some((m) => m.model === d.model)) modelOptions.push({ value: d.model, label: `${d.model} (disabled)` });
  const modelSelect = select(modelOptions, d.model);
  const hint = h('span');
  const inputs = {};
  const fields = [field({ label: 'Default model', input: modelSelect, name: `settings.${integ.key}.model`, hint })];
  for (const p of PARAMS[integ.kind]) {
    inputs[p.json] = p.type === 'option'
      ? select([], '')
      : h('input', { type: 'number', step: p.type === 'integer' ? '1' : '0.05', value: d[p.json] !== undefined ? String(d[p.json]) : '' });
    fields.push(field({ label: `Default ${p.label.toLowerCase()}`, input: inputs[p.json], name: `settings.${integ.key}.${p.field}` }));
  }
  const refresh = () => {
    const m = models.find((x) => x.model === modelSelect.value);
    hint.textContent = m ? `${m.model}: ${modelLimits(m)}.` : '';
    for (const p of PARAMS[integ.kind].filter((x) => x.type === 'option')) {
      const el = inputs[p.json];
      const keep = el.value || d[p.json] || '';
      const values = m ? (m[p.list] || []) : [];
      const opts = [{ value: '', label: values.length ? 'Not set' : 'Does not apply' }, ...values.map((v) => ({ value: v, label: v }))];
      if (keep && !values.includes(keep)) opts.push({ value: keep, label: `${keep} (not offered)` });
      el.replaceChildren(...opts.map((o) => h('option', { value: o.value, text: o.label, selected: o.value === keep })));
    }
  };
  modelSelect.addEventListener('change', refresh);
  refresh();
  const box = errorBox();
  const form = h('form', { class: 'defaults-form', novalidate: true, 'aria-label': `${integ.label} defaults` },
    h('h3', { text: 'Defaults' }), box, h('div', { class: 'row' }, ...fields),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: `Save ${integ.label} defaults` })));
  onSubmit(form, box, async () => {
    const values = { model: modelSelect.value };
    const mask = [`${integ.key}.model`];
    for (const p of PARAMS[integ.kind]) {
      mask.push(`${integ.key}.${p.json}`);
      const v = p.type === 'option' ? optionalText(inputs[p.json]) : optionalNumber(inputs[p.json]);
      if (v !== undefined) values[p.json] = v;
    }
    const next = await call('ConfigService/UpdateGlobalSettings', {
      settings: { [integ.key]: values }, updateMask: mask.join(','), expectedRevision: revision,
    });
    announce(`Saved the ${integ.label} defaults.`);
    redraw(next, titleID);
  });
  return form;
}
