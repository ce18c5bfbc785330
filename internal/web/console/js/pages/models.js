// Model Catalog: every provider's models and their published limits, which
// every setting is validated against. Edit an entry, or add one.
import { call } from '../api.js';
import { h, field, select, button, errorBox, onSubmit, announce, heading, badge } from '../ui.js';
import { INTEGRATIONS, integration, modelLimits } from '../format.js';

export async function render(view) {
  view.append(heading('Model Catalog',
    'The models each provider offers, with their limits. Disabling a model that a platform default uses is refused (MODEL_IN_USE).'));
  const body = h('div');
  view.append(body);
  await draw(body);
}

async function draw(body, focusID) {
  const { models = [] } = await call('ConfigService/ListModels', { includeDisabled: true });
  const editor = h('div', { id: 'model-editor' });
  const edit = (m) => {
    editor.replaceChildren(modelForm(m, editor, () => draw(body, m ? `model-row-${m.integration}-${m.model}` : 'catalog-title')));
    editor.querySelector('h2').focus();
  };
  const tables = INTEGRATIONS.map((integ) => {
    const rows = models.filter((m) => m.integration === integ.value).map((m) => h('tr', { id: `model-row-${m.integration}-${m.model}`, tabindex: '-1' },
      h('th', { scope: 'row' }, h('code', { text: m.model })),
      h('td', { text: m.displayName }),
      h('td', {}, m.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted')),
      h('td', { text: modelLimits(m) }),
      h('td', {}, button('Edit', { class: 'button small secondary', 'aria-label': `Edit ${m.model}`, onclick: () => edit(m) }))));
    return h('table', { class: 'data' },
      h('caption', { text: integ.label }),
      h('thead', {}, h('tr', {}, ...['Model', 'Name', 'State', 'Limits', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows));
  });
  body.replaceChildren(
    h('h2', { id: 'catalog-title', class: 'visually-hidden', tabindex: '-1', text: 'Models' }),
    h('div', { class: 'actions' }, button('Add a model', { onclick: () => edit(null) })),
    editor,
    ...tables);
  if (focusID) document.getElementById(focusID)?.focus();
}

const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const num = (input) => (input.value.trim() === '' ? undefined : Number(input.value));

// modelForm edits m, or a new entry when m is null. UpsertModel replaces
// the entry whole, so every field is sent.
function modelForm(m, editor, done) {
  const isNew = !m;
  const integ = select(INTEGRATIONS.map((i) => ({ value: i.value, label: i.label })), m?.integration || 'INTEGRATION_OPENAI', { disabled: !isNew });
  const id = h('input', { type: 'text', value: m?.model || '', readOnly: !isNew, autocomplete: 'off' });
  const name = h('input', { type: 'text', value: m?.displayName || '' });
  const enabled = h('input', { type: 'checkbox', checked: m ? m.enabled : true });
  const maxTokens = h('input', { type: 'number', step: '1', value: m?.maxOutputTokens ?? '' });
  const minTemp = h('input', { type: 'number', step: '0.1', value: m?.minTemperature ?? '' });
  const maxTemp = h('input', { type: 'number', step: '0.1', value: m?.maxTemperature ?? '' });
  const sizes = h('input', { type: 'text', value: (m?.imageSizes || []).join(', ') });
  const qualities = h('input', { type: 'text', value: (m?.imageQualities || []).join(', ') });
  const styles = h('input', { type: 'text', value: (m?.imageStyles || []).join(', ') });
  const textFields = h('div', { class: 'row' },
    field({ label: 'Max output tokens', input: maxTokens, name: 'model.max_output_tokens' }),
    field({ label: 'Min temperature', input: minTemp, name: 'model.min_temperature', hint: 'Both empty: the model takes no temperature.' }),
    field({ label: 'Max temperature', input: maxTemp, name: 'model.max_temperature' }));
  const imageFields = h('div', { class: 'row' },
    field({ label: 'Sizes', input: sizes, name: 'model.image_sizes', hint: 'Comma-separated, e.g. 1024x1024, 1792x1024.' }),
    field({ label: 'Qualities', input: qualities, name: 'model.image_qualities', hint: 'Comma-separated; empty if the option does not apply.' }),
    field({ label: 'Styles', input: styles, name: 'model.image_styles', hint: 'Comma-separated; empty if the option does not apply.' }));
  const showKind = () => {
    const image = integration(integ.value).kind === 'image';
    textFields.hidden = image;
    imageFields.hidden = !image;
  };
  integ.addEventListener('change', showKind);
  showKind();
  const box = errorBox();
  const cancel = button('Cancel', { class: 'button secondary', onclick: () => { editor.replaceChildren(); done(); } });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'model-form-title' },
    h('h2', { id: 'model-form-title', tabindex: '-1', text: isNew ? 'Add a model' : `Edit ${m.model}` }),
    box,
    h('div', { class: 'row' },
      field({ label: 'Provider', input: integ, name: 'model.integration' }),
      field({ label: 'Model id', input: id, name: 'model.model', hint: 'The provider\'s id, e.g. gpt-4o-mini.' }),
      field({ label: 'Display name', input: name, name: 'model.display_name' })),
    field({ label: 'Enabled (offered for new settings)', input: enabled, name: 'model.enabled', inline: true }),
    textFields, imageFields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button', text: 'Save model' }), cancel));
  onSubmit(form, box, async () => {
    const image = integration(integ.value).kind === 'image';
    const model = { integration: integ.value, model: id.value.trim(), displayName: name.value.trim(), enabled: enabled.checked };
    if (image) {
      Object.assign(model, { imageSizes: splitList(sizes.value), imageQualities: splitList(qualities.value), imageStyles: splitList(styles.value) });
    } else {
      Object.assign(model, { maxOutputTokens: num(maxTokens), minTemperature: num(minTemp), maxTemperature: num(maxTemp) });
    }
    const req = { model };
    if (m) req.expectedRevision = m.revision;
    await call('ConfigService/UpsertModel', req);
    announce(`Saved ${model.model}.`);
    editor.replaceChildren();
    await done();
  });
  return form;
}
