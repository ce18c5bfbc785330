// Calls to the service over HTTP/JSON (the Connect protocol): one POST per
// RPC, proto3 JSON in and out. The token lives in sessionStorage only (gone
// when the tab closes) and travels as a bearer header, never in a URL or a
// cookie.

const TOKEN_KEY = 'aiconfig.token';

// RpcError is a failed call: the gRPC code (as Connect names it, e.g.
// "invalid_argument"), the message, and the ErrorInfo reason, metadata and
// field violations the server adds to every JSON error body.
export class RpcError extends Error {
  constructor(body, status) {
    super(body.message || `the service answered HTTP ${status}`);
    this.name = 'RpcError';
    this.code = body.code || 'unknown';
    this.reason = body.reason || '';
    this.metadata = body.metadata || {};
    this.fieldViolations = body.fieldViolations || [];
    this.status = status;
  }
}

export const session = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

// call invokes method ("ConfigService/GetModelConfig") of aiconfig.v1 and
// returns the answer, or throws an RpcError.
export async function call(method, request = {}, token = session.token()) {
  const headers = { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(`/aiconfig.v1.${method}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(request),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new RpcError({ code: 'unavailable', message: `the service did not answer (${e.message})` }, 0);
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { code: 'unknown', message: text.slice(0, 300) };
  }
  if (!res.ok) throw new RpcError(body, res.status);
  return body;
}

// whoAmI asks the service who a token is (TokenService.WhoAmI, open to
// every role, so signing in makes no call the access rules refuse):
// { role: 'admin', tokenName } or { role: 'account', tokenName, account:
// { id, name, plan } }. A SERVICE token has no page here.
export async function whoAmI(token) {
  const who = await call('TokenService/WhoAmI', {}, token);
  if (who.role === 'ROLE_ADMIN') return { role: 'admin', tokenName: who.tokenName || '' };
  if (who.role === 'ROLE_ACCOUNT') {
    return {
      role: 'account',
      tokenName: who.tokenName || '',
      account: { id: who.accountId, name: who.accountName || '', plan: who.plan || 'PLAN_UNSPECIFIED' },
    };
  }
  throw new RpcError({
    code: 'permission_denied',
    reason: 'ROLE_NOT_ALLOWED',
    message: 'this is a SERVICE token, meant for workers; sign in with an admin token or an account token',
  }, 403);
}
