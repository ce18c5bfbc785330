// AI Model Selection: what each AI function uses now and where each value
// comes from (GetModelConfig's sources), and the account's override per
// provider. Also used by the admin's account page.
import { call } from '../api.js';
import {
  h, field, select, button, errorBox, onSubmit, showError, announce, heading, notice, badge,
  optionalNumber, optionalText, redrawing,
} from '../ui.js';
import {
  FUNCTIONS, INTEGRATIONS, PARAMS, integration, planCustomizes, planLabel, sourceLabel, modelLimits,
} from '../format.js';

export async function render(view, { identity }) {
  view.append(heading('AI Model Selection',
    'The model and parameters each AI function of your account uses. Empty fields use the platform defaults.'));
  const section = h('div');
  view.append(section);
  await renderModelSelection(section, { accountId: identity.account.id });
}

function functionLabel(value) {
  return (FUNCTIONS.find((f) => f.value === value) || { label: value }).label;
}

function sourced(value, source) {
  const cls = source === 'SOURCE_ACCOUNT' ? 'source from-account' : 'source from-global';
  return h('span', { class: 'sourced' },
    h('span', { class: 'value', text: value }), ' ',
    h('span', { class: cls, 'data-source': source || '', text: sourceLabel(source) }));
}

function effectiveTable(configs) {
  const body = h('tbody');
  for (const c of configs) {
    const kind = integration(c.integration).kind;
    const params = h('ul', { class: 'params' });
    for (const p of PARAMS[kind]) {
      if (c[p.json] === undefined) continue;
      params.append(h('li', {}, `${p.label}: `, sourced(String(c[p.json]), c.sources?.[p.field])));
    }
    const adjustments = (c.adjustments || []).map((a) => h('li', { class: 'adjustment' },
      `${a.field}: stored ${a.requested || '—'}, using ${a.applied || 'nothing'} (${a.reason})`));
    body.append(h('tr', { 'data-function': c.function },
      h('th', { scope: 'row' }, functionLabel(c.function), h('br'), h('code', { text: c.function })),
      h('td', { text: integration(c.integration).label }),
      h('td', { class: 'model' }, sourced(c.model, c.sources?.model)),
      h('td', {}, params, adjustments.length ? h('ul', { class: 'adjustments' }, adjustments) : null)));
  }
  return h('table', { class: 'data effective' },
    h('caption', { text: 'Each value comes from the account\'s override or the platform default.' }),
    h('thead', {}, h('tr', {}, ...['Function', 'Provider', 'Model', 'Parameters'].map((t) => h('th', { scope: 'col', text: t })))),
    body);
}

// renderModelSelection fills container for one account (re-rendered after
// every change, from fresh answers).
export function renderModelSelection(container, opts) {
  return redrawing(container, () => drawModelSelection(container, opts));
}

async function drawModelSelection(container, opts) {
  const { accountId, level = 2 } = opts;
  const [configs, listed, catalog] = await Promise.all([
    Promise.all(FUNCTIONS.map((f) => call('ConfigService/GetModelConfig', { accountId, function: f.value }))),
    call('ConfigService/ListIntegrationOverrides', { accountId }),
    call('ConfigService/ListModels', { includeDisabled: true }),
  ]);
  const plan = configs[0]?.plan;
  const editable = planCustomizes(plan);
  const overrides = listed.overrides || [];
  const models = catalog.models || [];
  const rerender = async (focusID) => {
    await renderModelSelection(container, opts);
    document.getElementById(focusID)?.focus();
  };

  const parts = [];
  if (!editable) {
    parts.push(notice('readonly',
      h('p', {}, h('strong', { text: 'Read-only. ' }),
        `The ${planLabel(plan)} plan always uses the platform defaults; choosing models and parameters needs the Starter, Growth or Scale plan.`),
      h('p', {}, 'Reason: ', h('code', { class: 'reason', text: 'PLAN_UPGRADE_REQUIRED' })),
      overrides.length
        ? h('p', { text: 'Choices stored before the plan changed are kept but not applied; they apply again after an upgrade, or can be cleared below.' })
        : null));
  }
  parts.push(h(`h${level}`, { text: 'In effect now' }), effectiveTable(configs));

  // A form for each provider a function uses, and any other the account
  // has stored choices for.
  const used = new Set(configs.map((c) => c.integration));
  const shown = INTEGRATIONS.filter((i) => used.has(i.value) || overrides.some((o) => o.integration === i.value));
  parts.push(h(`h${level}`, { text: editable ? 'Your choices per provider' : 'Stored choices per provider' }));
  for (const integ of shown) {
    parts.push(overrideForm({
      integ, accountId, editable, rerender,
      override: overrides.find((o) => o.integration === integ.value),
      models: models.filter((m) => m.integration === integ.value),
      configs: configs.filter((c) => c.integration === integ.value),
      level: level + 1,
    }));
  }
  container.replaceChildren(...parts);
}

function overrideForm({ integ, accountId, editable, rerender, override, models, configs, level }) {
  const kind = integ.kind;
  const titleID = `override-${integ.key}-title`;
  const enabled = models.filter((m) => m.enabled);
  // The platform's model for this provider, when the answer says so.
  const globalModel = configs.find((c) => c.sources?.model === 'SOURCE_GLOBAL')?.model;
  const modelOptions = [{ value: '', label: globalModel ? `Platform default (${globalModel})` : 'Platform default' },
    ...enabled.map((m) => ({ value: m.model, label: m.displayName ? `${m.displayName} (${m.model})` : m.model }))];
  if (override?.model && !enabled.some((m) => m.model === override.model)) {
    modelOptions.push({ value: override.model, label: `${override.model} (disabled in the catalog)` });
  }
  const modelSelect = select(modelOptions, override?.model || '');
  const modelHint = h('span');
  const fields = [field({ label: 'Model', input: modelSelect, name: 'override.model', hint: modelHint })];

  const inputs = {};
  const hints = {};
  for (const p of PARAMS[kind]) {
    hints[p.json] = h('span');
    if (p.type === 'option') {
      inputs[p.json] = select([], '');
    } else {
      inputs[p.json] = h('input', {
        type: 'number', step: p.type === 'integer' ? '1' : '0.05', inputmode: p.type === 'integer' ? 'numeric' : 'decimal',
        value: override?.[p.json] !== undefined ? String(override[p.json]) : '',
      });
    }
    fields.push(field({ label: p.label, input: inputs[p.json], name: `override.${p.field}`, hint: hints[p.json] }));
  }

  // Hints and image options follow the model that would apply.
  const refresh = () => {
    const name = modelSelect.value || globalModel;
    const m = models.find((x) => x.model === name);
    modelHint.textContent = m ? `${m.model}: ${modelLimits(m)}.` : 'Empty: the platform default model.';
    for (const p of PARAMS[kind]) {
      if (p.type === 'option') {
        const el = inputs[p.json];
        const keep = el.value || override?.[p.json] || '';
        const values = m ? (m[p.list] || []) : [...new Set(enabled.flatMap((x) => x[p.list] || []))];
        const opts = [{ value: '', label: 'Platform default' }, ...values.map((v) => ({ value: v, label: v }))];
        if (keep && !values.includes(keep)) opts.push({ value: keep, label: `${keep} (not offered by ${name || 'this model'})` });
        el.replaceChildren(...opts.map((o) => h('option', { value: o.value, text: o.label, selected: o.value === keep })));
        hints[p.json].textContent = m && !values.length ? `${m.model} has no such option: leave it empty.` : 'Empty: the platform default.';
      } else if (p.json === 'temperature') {
        hints[p.json].textContent = !m ? 'Empty: the platform default.'
          : m.minTemperature === undefined ? `${m.model} takes no temperature: leave it empty.`
            : `Empty: the platform default. ${m.model} takes ${m.minTemperature}–${m.maxTemperature}.`;
      } else {
        hints[p.json].textContent = m ? `Empty: the platform default. ${m.model} allows up to ${m.maxOutputTokens}.` : 'Empty: the platform default.';
      }
    }
  };
  modelSelect.addEventListener('change', refresh);
  refresh();

  const usedBy = configs.map((c) => functionLabel(c.function));
  const box = errorBox();
  const save = h('button', { type: 'submit', class: 'button', text: `Save ${integ.label} choices` });
  const clear = override ? button('Clear stored choices', { class: 'button secondary', 'data-action': 'clear' }) : null;
  const set = h('fieldset', { disabled: !editable }, h('legend', { class: 'visually-hidden', text: `${integ.label} choices` }),
    h('div', { class: 'row' }, ...fields));
  const form = h('form', { class: 'card override', id: `override-${integ.key}`, novalidate: true, 'aria-labelledby': titleID },
    h(`h${level}`, { id: titleID, tabindex: '-1' }, integ.label, ' ',
      !override ? badge('platform defaults', 'global')
        : editable ? badge('account override stored', 'account') : badge('stored, not applied on this plan', 'muted')),
    h('p', { class: 'hint', text: usedBy.length ? `Used by: ${usedBy.join(', ')}.` : 'No function uses this provider at the moment.' }),
    box, set,
    h('div', { class: 'actions' }, editable ? save : null, clear));

  onSubmit(form, box, async () => {
    const next = { accountId, integration: integ.value };
    const mask = ['model'];
    if (modelSelect.value) next.model = modelSelect.value;
    for (const p of PARAMS[kind]) {
      mask.push(p.json);
      const v = p.type === 'option' ? optionalText(inputs[p.json]) : optionalNumber(inputs[p.json]);
      if (v !== undefined) next[p.json] = v;
    }
    // Every field is in the mask: an empty one goes back to the default.
    const req = { override: next, updateMask: mask.join(',') };
    if (override) req.expectedRevision = override.revision;
    await call('ConfigService/UpsertIntegrationOverride', req);
    announce(`Saved the ${integ.label} choices.`);
    await rerender(titleID);
  });
  clear?.addEventListener('click', async () => {
    try {
      await call('ConfigService/DeleteIntegrationOverride',
        { accountId, integration: integ.value, expectedRevision: override.revision });
      announce(`Cleared the ${integ.label} choices: the platform defaults apply.`);
      await rerender(titleID);
    } catch (err) {
      showError(box, err, form);
    }
  });
  return form;
}
