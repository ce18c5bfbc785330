// The console's pages: the sidebar of the original note, one entry per
// page, in order. A page is a module exporting render(view, ctx); ctx.route
// is its entry here, so one module can serve several entries (kind names
// the item kind of the author profile and content strategy pages, see
// kinds.js). Adding a page is one entry here and one module under pages/.

export const SECTIONS = [
  {
    title: 'Global settings',
    role: 'admin',
    items: [
      { path: '/admin/settings', label: 'Global Settings – Platform API Keys', page: () => import('./pages/global-settings.js') },
      { path: '/admin/prompts', label: 'Global Prompts', page: () => import('./pages/global-prompts.js') },
      { path: '/admin/profiles', label: 'Global Author Profiles', kind: 'author_profile', page: () => import('./pages/global-items.js') },
      { path: '/admin/strategies', label: 'Global Strategies', kind: 'content_strategy', page: () => import('./pages/global-items.js') },
      { path: '/admin/models', label: 'Model Catalog', page: () => import('./pages/models.js') },
      { path: '/admin/accounts', label: 'Accounts', page: () => import('./pages/accounts.js') },
      { path: '/admin/context', label: 'Generation Context', page: () => import('./pages/context.js') },
      { path: '/admin/audit', label: 'Audit Log', page: () => import('./pages/audit.js') },
    ],
  },
  {
    title: 'Account settings',
    role: 'account',
    items: [
      { path: '/settings/ai', label: 'AI Model Selection', page: () => import('./pages/model-selection.js') },
      { path: '/settings/prompts', label: 'Custom Prompts', page: () => import('./pages/prompts.js') },
      { path: '/settings/profiles', label: 'Author Profiles', kind: 'author_profile', page: () => import('./pages/items.js') },
      { path: '/settings/strategies', label: 'Content Strategies', kind: 'content_strategy', page: () => import('./pages/items.js') },
    ],
  },
];

// Pages reached from other pages, not from the sidebar.
const EXTRA = [
  { path: '/admin/prompts/:type', role: 'admin', label: 'Global Prompt', parent: '/admin/prompts', page: () => import('./pages/global-prompts.js') },
  { path: '/admin/accounts/:id/prompts/:type', role: 'admin', label: 'Account prompt', parent: '/admin/accounts', page: () => import('./pages/prompts.js') },
  { path: '/admin/accounts/:id', role: 'admin', label: 'Account', parent: '/admin/accounts', page: () => import('./pages/account.js') },
  { path: '/settings/prompts/:type', role: 'account', label: 'Custom Prompt', parent: '/settings/prompts', page: () => import('./pages/prompts.js') },
  { path: '/admin/context/:id', role: 'admin', label: 'Generation Context', parent: '/admin/context', page: () => import('./pages/context.js') },
];

export const ROUTES = [
  ...SECTIONS.flatMap((s) => s.items.map((i) => ({ ...i, role: s.role }))),
  ...EXTRA,
];

// match finds the route of a path, with its :parameters.
export function match(path) {
  for (const route of ROUTES) {
    const want = route.path.split('/');
    const got = path.split('/');
    if (want.length !== got.length) continue;
    const params = {};
    if (want.every((w, i) => {
      if (w.startsWith(':')) {
        try {
          params[w.slice(1)] = decodeURIComponent(got[i]);
        } catch {
          return false;
        }
        return got[i] !== '';
      }
      return w === got[i];
    })) {
      return { route, params };
    }
  }
  return null;
}

export function home(role) {
  return role === 'admin' ? '/admin/settings' : '/settings/ai';
}
