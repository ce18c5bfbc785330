// Names the console shows for the service's enums and catalogs: one table
// each, the way the service keeps its registries.

export const PLANS = [
  { value: 'PLAN_FREE', label: 'Free' },
  { value: 'PLAN_STARTER', label: 'Starter' },
  { value: 'PLAN_GROWTH', label: 'Growth' },
  { value: 'PLAN_SCALE', label: 'Scale' },
];

export function planLabel(plan) {
  return (PLANS.find((p) => p.value === plan) || { label: plan || 'unknown' }).label;
}

// Starter and above may override models and customize prompts (SPEC §1).
export function planCustomizes(plan) {
  return plan === 'PLAN_STARTER' || plan === 'PLAN_GROWTH' || plan === 'PLAN_SCALE';
}

// Providers: key is the GlobalSettings field and the proto enum's short name.
export const INTEGRATIONS = [
  { value: 'INTEGRATION_OPENAI', key: 'openai', label: 'OpenAI', kind: 'text' },
  { value: 'INTEGRATION_ANTHROPIC', key: 'anthropic', label: 'Anthropic', kind: 'text' },
  { value: 'INTEGRATION_DALLE', key: 'dalle', label: 'DALL·E', kind: 'image' },
  { value: 'INTEGRATION_RUNWARE', key: 'runware', label: 'Runware', kind: 'image' },
];

export function integration(value) {
  return INTEGRATIONS.find((i) => i.value === value) || { value, key: '', label: value, kind: 'text' };
}

// Parameters per kind: the proto field (snake_case, as violations name it)
// and its proto3 JSON name (camelCase, as requests and update masks use).
export const PARAMS = {
  text: [
    { field: 'temperature', json: 'temperature', label: 'Temperature', type: 'number' },
    { field: 'max_tokens', json: 'maxTokens', label: 'Max output tokens', type: 'integer' },
  ],
  image: [
    { field: 'image_size', json: 'imageSize', label: 'Image size', type: 'option', list: 'imageSizes' },
    { field: 'image_quality', json: 'imageQuality', label: 'Image quality', type: 'option', list: 'imageQualities' },
    { field: 'image_style', json: 'imageStyle', label: 'Image style', type: 'option', list: 'imageStyles' },
  ],
};

export const FUNCTIONS = [
  { value: 'auto_cluster', label: 'Keyword clustering' },
  { value: 'generate_ideas', label: 'Content ideas' },
  { value: 'generate_content', label: 'Content generation' },
  { value: 'generate_image_prompts', label: 'Image prompt extraction' },
  { value: 'generate_images', label: 'Image generation' },
];

export function sourceLabel(source) {
  if (source === 'SOURCE_ACCOUNT') return 'account override';
  if (source === 'SOURCE_GLOBAL') return 'platform default';
  return 'not set';
}

export function roleLabel(role) {
  return { ROLE_ADMIN: 'admin', ROLE_SERVICE: 'service', ROLE_ACCOUNT: 'account' }[role] || '';
}

export function promptLabel(type) {
  const s = String(type || '').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function dateTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString();
}

// Catalog limits of a model as one line.
export function modelLimits(m) {
  if (!m) return '';
  if (integration(m.integration).kind === 'image') {
    return [
      m.imageSizes?.length ? `sizes ${m.imageSizes.join(', ')}` : '',
      m.imageQualities?.length ? `qualities ${m.imageQualities.join(', ')}` : '',
      m.imageStyles?.length ? `styles ${m.imageStyles.join(', ')}` : '',
    ].filter(Boolean).join('; ');
  }
  const temp = m.minTemperature !== undefined && m.maxTemperature !== undefined
    ? `temperature ${m.minTemperature}–${m.maxTemperature}` : 'no temperature';
  return `up to ${m.maxOutputTokens ?? '?'} output tokens; ${temp}`;
}
