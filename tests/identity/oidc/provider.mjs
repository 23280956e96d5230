// The OpenID provider of the identity tests: panva's certified oidc-provider on 127.0.0.1, with
// plain login/consent pages (no outside fonts or scripts) and accounts given by the test.
//
// OIDC_TEST_CONFIG (JSON): {issuer, port, clients: [...], accounts: {sub: {claims}},
//                           clockSkewSeconds (optional: a provider whose clock is wrong, for expired tokens)}
// Prints "listening" when ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const cfg = JSON.parse(process.env.OIDC_TEST_CONFIG);
if (cfg.clockSkewSeconds) {
  const realNow = Date.now;
  Date.now = () => realNow() + cfg.clockSkewSeconds * 1000;
}

const page = (title, body) => `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>${title}</title></head>`
  + `<body><h1>${title}</h1>${body}</body></html>`;
const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(cfg.issuer, {
  clients: cfg.clients,
  cookies: { keys: ['test-only-cookie-key'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'], email: ['email', 'email_verified'], phone: ['phone_number', 'phone_number_verified'],
    profile: ['name'],
  },
  ttl: { Interaction: 86400, Session: 86400, Grant: 86400, IdToken: 600, AccessToken: 600, AuthorizationCode: 60 },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => { ctx.body = page('Đăng xuất', `${form}<button form="op.logoutForm" name="logout" value="yes">Đăng xuất</button>`); },
      postLogoutSuccessSource: async (ctx) => { ctx.body = page('Đã đăng xuất', ''); },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => (cfg.accounts[sub]
    ? { accountId: sub, claims: async () => ({ sub, ...cfg.accounts[sub] }) } : undefined),
  renderError: async (ctx, out) => { ctx.type = 'html'; ctx.body = page('Lỗi', `<pre>${escape(JSON.stringify(out))}</pre>`); },
});

async function readForm(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return Object.fromEntries(new URLSearchParams(raw));
}

async function grantConsent(req, res, details) {
  const grant = details.grantId ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const form = await readForm(req);
    await provider.interactionFinished(req, res, { login: { accountId: form.login } }, { mergeWithLastSubmission: false });
  } else if (details.prompt.name === 'login') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Đăng nhập VNeID (thử nghiệm)', `<form method="post" action="/interaction/${escape(uid)}">`
      + '<label for="login">Số định danh</label><input id="login" name="login" autofocus>'
      + '<button type="submit">Đăng nhập</button></form>'));
  } else {
    await grantConsent(req, res, details);
  }
}

const callback = provider.callback();
http.createServer((req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)/);
  if (!match) return callback(req, res);
  return interaction(req, res, match[1]).catch((error) => {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Lỗi', `<pre>${escape(error.message)}</pre>`));
  });
}).listen(cfg.port, '127.0.0.1', () => console.log('listening'));
