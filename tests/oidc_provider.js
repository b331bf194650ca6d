// An OpenID Connect provider for the sign-in tests (tests/browser/test_nhs_identity.py), standing in for
// the NHS organisations' identity provider. It is the oidc-provider npm package (pinned in
// package-lock.json), run by node on 127.0.0.1 only, on the port the test gives it.
//
//   node tests/oidc_provider.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Its sign-in page asks only for an email address: whoever signs in there is, to the portal, the person
// with that email (as a real provider would assert after checking their password). Consent is given
// at once. It prints "ready" when it listens.

const http = require("node:http");
const { randomBytes } = require("node:crypto");

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
      if (body.length > 10000) reject(new Error("too long"));
    });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });
}

async function main() {
  const { default: Provider } = await import("oidc-provider");
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    }],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return { sub: id, email: id, email_verified: true }; } };
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [randomBytes(32).toString("hex")] },
  });
  const callback = provider.callback();

  const server = http.createServer(async (req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url.split("?")[0]);
    if (!match) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === "login" && req.method === "POST" && match[2]) {
        const email = (await readForm(req)).get("email") || "";
        return await provider.interactionFinished(req, res, { login: { accountId: email } }, { mergeWithLastSubmission: false });
      }
      if (details.prompt.name === "login") {
        res.setHeader("Content-Type", "text/html; charset=utf-8");
        return res.end(page("Sign in to your organisation",
          `<form method="post" action="/interaction/${escape(details.uid)}/login">` +
          `<label for="email">Email address</label> <input id="email" name="email" type="email" autocomplete="email">` +
          `<button type="submit">Continue</button></form>`));
      }
      // Consent: granted at once, for the scopes and claims the portal asked for.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(" "));
      if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (error) {
      res.statusCode = 400;
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      return res.end(`The test provider could not go on: ${error.message}`);
    }
  });
  server.listen(Number(port), "127.0.0.1", () => console.log("ready"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
