// A real OAuth 2.0 / OpenID Connect server for sfrefresh's interop tests: panva's
// oidc-provider (npm), nobody on this project wrote it. Everything below is
// configuration of that provider, plus two opt-in knobs (see OPTIONS).
//
// Listens on 127.0.0.1 on an ephemeral port, prints ONE JSON line on stdout with the
// endpoints and clients (see README.md), logs to stderr, and stays up until it is
// killed or its stdin closes (so it dies with the test process that spawned it).
//
// OPTIONS (all optional, --name=value):
//   --device-interval=N    add "interval": N to device authorization answers
//                          (oidc-provider itself never sends one, so RFC 8628's
//                          default of 5 s applies; tests of a polling client want 1)
//   --device-code-ttl=S    device code lifetime in seconds (default 600)
//   --access-token-ttl=S   access token lifetime in seconds (default 3600)
//   --salesforce-paths     serve the endpoints at Salesforce's paths
//                          (/services/oauth2/token, /authorize, /revoke, ...)
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

function options(argv) {
  const out = {
    deviceInterval: undefined,
    deviceCodeTtl: 600,
    accessTokenTtl: 3600,
    salesforcePaths: false,
  };
  const seconds = (name, value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${name} wants a whole number of seconds >= 1, not ${JSON.stringify(value)}`);
    }
    return n;
  };
  for (const arg of argv) {
    const [name, value] = arg.split(/=(.*)/su);
    switch (name) {
      case '--device-interval': out.deviceInterval = seconds(name, value); break;
      case '--device-code-ttl': out.deviceCodeTtl = seconds(name, value); break;
      case '--access-token-ttl': out.accessTokenTtl = seconds(name, value); break;
      case '--salesforce-paths': out.salesforcePaths = true; break;
      default: throw new Error(`unknown option ${arg}`);
    }
  }
  return out;
}

const opts = options(process.argv.slice(2));

// Fresh per run. The secret holds the characters that client authentication gets
// wrong most often: ':' (the Basic separator), '+' (a space in form encoding), '%',
// '/', '&' and '=', so a client that does not form-urlencode id and secret for HTTP
// Basic (RFC 6749 section 2.3.1) or the form body fails against this server.
const random = (n) => crypto.randomBytes(n).toString('base64url');
const confidentialSecret = `${random(18)}:+%/&=`;

// The redirect URIs sfrefresh's web flow uses (the Salesforce CLI's callback).
const redirectUris = [
  'http://localhost:1717/OauthRedirect',
  'http://127.0.0.1:1717/OauthRedirect',
];

const clients = [
  {
    // A confidential client, as a Salesforce Connected App with a consumer secret.
    // oidc-provider registers one auth method per client, but a client registered
    // for client_secret_basic also accepts client_secret_post (and the other way
    // round): both are tried by the tests with this one client.
    client_id: 'sfrefresh-confidential',
    client_secret: confidentialSecret,
    client_name: 'sfrefresh confidential',
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web', // exact redirect URI match, port included
    grant_types: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
    ],
    response_types: ['code'],
    redirect_uris: redirectUris,
  },
  {
    // A public native app (RFC 8252): no secret, PKCE required, and for
    // http://localhost / 127.0.0.1 / [::1] redirect URIs any port is accepted.
    client_id: 'sfrefresh-native',
    client_name: 'sfrefresh native',
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    grant_types: [
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
    ],
    response_types: ['code'],
    redirect_uris: redirectUris,
  },
];

const salesforceRoutes = {
  authorization: '/services/oauth2/authorize',
  token: '/services/oauth2/token',
  revocation: '/services/oauth2/revoke',
  introspection: '/services/oauth2/introspect',
  userinfo: '/services/oauth2/userinfo',
  jwks: '/id/keys',
  // Salesforce has no RFC 8628 endpoint; these two keep oidc-provider's names.
  device_authorization: '/services/oauth2/device/auth',
  code_verification: '/setup/connect',
};

// Bind first: the issuer needs the port.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients,
  // Signs the interaction and session cookies.
  cookies: { keys: [random(32)] },
  // Scopes this server knows: openid (userinfo), offline_access (a refresh token),
  // email (a claim for userinfo), api (Salesforce's everyday scope, no claims).
  scopes: ['openid', 'offline_access', 'email', 'api'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Any login works (the dev login form takes any name and password); the account
  // is the login name.
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.test`, email_verified: true };
      },
    };
  },
  features: {
    // The provider's own login and consent pages: plain HTML forms, no script, so
    // a test can drive them with form posts (tests/oidc.rs does).
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
  },
  // The default (PKCE for public clients only) stated outright; S256 is the only
  // method oidc-provider accepts.
  pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
  // Every refresh answers with a new refresh token and consumes the old one; the
  // default rotates only public clients, or after 70 % of the token's lifetime.
  // Replaying a consumed refresh token revokes the whole grant (the token family).
  rotateRefreshToken: true,
  // The default, stated outright: a refresh token only when the client may use the
  // refresh_token grant and the scope holds offline_access (which the authorization
  // endpoint keeps only with prompt=consent).
  async issueRefreshToken(_ctx, client, source) {
    return client.grantTypeAllowed('refresh_token') && source.scopes.has('offline_access');
  },
  ttl: {
    AccessToken: opts.accessTokenTtl,
    AuthorizationCode: 60,
    ClientCredentials: opts.accessTokenTtl,
    DeviceCode: opts.deviceCodeTtl,
    Grant: 14 * 24 * 3600,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
  },
  ...(opts.salesforcePaths ? { routes: salesforceRoutes } : {}),
});

if (opts.deviceInterval !== undefined) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && ctx.body) {
      ctx.body = { ...ctx.body, interval: opts.deviceInterval };
    }
  });
}

// One line per failed request on stderr: what the provider refused and why.
for (const event of [
  'grant.error', 'authorization.error', 'device_authorization.error',
  'code_verification.error', 'revocation.error', 'introspection.error',
  'userinfo.error', 'server_error',
]) {
  provider.on(event, (_ctx, err) => {
    console.error(`oidc: ${event}: ${err.error ?? err.name}: ${err.error_description ?? err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`);
  });
}

server.on('request', provider.callback());

const url = (route) => provider.urlFor(route);
console.log(JSON.stringify({
  issuer,
  token_endpoint: url('token'),
  device_authorization_endpoint: url('device_authorization'),
  verification_uri: url('code_verification'),
  authorization_endpoint: url('authorization'),
  revocation_endpoint: url('revocation'),
  userinfo_endpoint: url('userinfo'),
  introspection_endpoint: url('introspection'),
  discovery_endpoint: `${issuer}/.well-known/openid-configuration`,
  redirect_uris: redirectUris,
  clients: {
    confidential: { client_id: 'sfrefresh-confidential', client_secret: confidentialSecret },
    native: { client_id: 'sfrefresh-native' },
  },
  pid: process.pid,
}));

// Stay up until killed, or until whoever started us goes away (stdin closes).
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
