// A minimal web Mastodon client, served from an origin other than holdfast's,
// as Elk, Phanpy or any "open it at a URL and point it at your server" client is.
// tests/browser/test_cross_origin_app.py opens app.html?server=<holdfast URL>
// in headless Chromium and drives holdfast's sign-in page in between.
//
// 1st load: register an app (POST /api/v1/apps, JSON), make a PKCE verifier
//           and its S256 challenge (crypto.subtle), go to /oauth/authorize.
// 2nd load (back with ?code=): exchange the code at /oauth/token with the
//           verifier, verify_credentials with the token (a preflighted
//           Authorization header), upload a canvas-drawn PNG with FormData to
//           /api/v2/media, post a status with it, read the home timeline's
//           exposed headers. Every step and the final verdict go into the DOM
//           (#steps, #result as JSON, body[data-done]).
"use strict";

const STORE = "holdfast-test-client";
const SCOPES = "read write";
const steps = [];

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

function record(name, ok, detail) {
  steps.push({ name, ok, detail });
  const li = document.createElement("li");
  li.textContent = `${ok ? "ok" : "FAILED"} ${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`;
  li.className = ok ? "ok" : "failed";
  document.getElementById("steps").appendChild(li);
}

function finish(ok, extra = {}) {
  document.getElementById("result").textContent = JSON.stringify({ ok, steps, ...extra });
  document.getElementById("status").textContent = ok ? "done" : "failed";
  document.body.dataset.done = ok ? "ok" : "failed";
}

function base64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** fetch that records the step; a CORS refusal shows up here as a TypeError. */
async function call(name, url, init = {}, expect = [200]) {
  let response;
  try {
    response = await fetch(url, { ...init, credentials: "omit", mode: "cors" });
  } catch (e) {
    record(name, false, `request failed (blocked by CORS or network): ${e}`);
    throw e;
  }
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!expect.includes(response.status)) {
    record(name, false, { status: response.status, body });
    throw new Error(`${name}: HTTP ${response.status}`);
  }
  record(name, true, { status: response.status });
  return { response, body };
}

async function start(server) {
  const { body: app } = await call("register app", `${server}/api/v1/apps`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_name: "Cross-origin test client",
      redirect_uris: redirectUri(),
      scopes: SCOPES,
      website: location.origin,
    }),
  });
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(12)));
  sessionStorage.setItem(STORE, JSON.stringify({
    server, clientId: app.client_id, clientSecret: app.client_secret, verifier, state,
  }));
  const authorize = new URL(`${server}/oauth/authorize`);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: app.client_id,
    redirect_uri: redirectUri(),
    scope: SCOPES,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  document.getElementById("status").textContent = "redirecting to sign in";
  location.assign(authorize.href);
}

function drawPng() {
  const canvas = document.createElement("canvas");
  canvas.width = 64;
  canvas.height = 48;
  const ctx = canvas.getContext("2d");
  const gradient = ctx.createLinearGradient(0, 0, 64, 48);
  gradient.addColorStop(0, "#1d4ed8");
  gradient.addColorStop(1, "#f59e0b");
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, 64, 48);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

/** Show an image from holdfast's origin, as a client shows media and avatars. */
async function showImage(name, src) {
  const img = new Image();
  img.alt = name;
  await new Promise((resolve) => {
    img.onload = resolve;
    img.onerror = resolve;
    img.src = src;
  });
  document.body.appendChild(img);
  record(name, img.naturalWidth > 0, { src, width: img.naturalWidth, height: img.naturalHeight });
  return { width: img.naturalWidth, height: img.naturalHeight };
}

async function resume(params) {
  const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
  if (!saved) throw new Error("came back from sign-in without saved state");
  const { server } = saved;
  if (params.get("error")) {
    record("authorize", false, { error: params.get("error"), description: params.get("error_description") });
    throw new Error(`authorize: ${params.get("error")}`);
  }
  if (params.get("state") !== saved.state) {
    record("authorize", false, `state mismatch: ${params.get("state")} != ${saved.state}`);
    throw new Error("state mismatch");
  }
  record("authorize", true, "came back with a code and the same state");

  const { body: token } = await call("token (PKCE)", `${server}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      grant_type: "authorization_code",
      code: params.get("code"),
      client_id: saved.clientId,
      client_secret: saved.clientSecret,
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
      scope: SCOPES,
    }),
  });
  const auth = { Authorization: `Bearer ${token.access_token}` };

  const { body: me } = await call("verify_credentials", `${server}/api/v1/accounts/verify_credentials`, {
    headers: auth,
  });

  const form = new FormData();
  form.append("file", await drawPng(), "canvas.png");
  form.append("description", "a gradient drawn on a canvas");
  let { body: media } = await call("upload media (multipart)", `${server}/api/v2/media`, {
    method: "POST",
    headers: auth,
    body: form,
  }, [200, 202]);
  for (let i = 0; i < 50 && !media.url; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ({ body: media } = await call("poll media", `${server}/api/v1/media/${media.id}`, { headers: auth }, [200, 206]));
  }

  const { body: status } = await call("post status with media", `${server}/api/v1/statuses`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": base64url(crypto.getRandomValues(new Uint8Array(12))) },
    body: JSON.stringify({ status: "hello from another origin", media_ids: [media.id] }),
  });

  const shown = await showImage("show the picture", media.preview_url || media.url);

  const profile = new FormData();
  profile.append("display_name", "Signed in from another origin");
  profile.append("avatar", await drawPng(), "avatar.png");
  const { body: updated } = await call("set avatar (PATCH, multipart)", `${server}/api/v1/accounts/update_credentials`, {
    method: "PATCH",
    headers: auth,
    body: profile,
  });
  await showImage("show the avatar", updated.avatar);

  const { response: home, body: timeline } = await call("home timeline", `${server}/api/v1/timelines/home?limit=1`, {
    headers: auth,
  });
  const exposed = {
    link: home.headers.get("Link"),
    rateLimitLimit: home.headers.get("X-RateLimit-Limit"),
  };
  record("exposed headers", Boolean(exposed.link && exposed.rateLimitLimit), exposed);

  const { response: gone } = await call("unknown status is a JSON 404", `${server}/api/v1/statuses/1`, {
    headers: auth,
  }, [404]);

  finish(steps.every((s) => s.ok), {
    username: me.username,
    mediaId: media.id,
    mediaUrl: media.url,
    statusId: status.id,
    statusMedia: (status.media_attachments || []).map((m) => m.id),
    shown,
    displayName: updated.display_name,
    avatar: updated.avatar,
    homeFirst: timeline[0] && timeline[0].id,
    exposed,
    notFoundType: gone.headers.get("Content-Type"),
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    await resume(params);
  } else {
    const server = params.get("server");
    if (!server) throw new Error("open app.html?server=<holdfast URL>");
    await start(server);
  }
}

main().catch((e) => {
  if (!document.body.dataset.done) {
    record("client", false, String(e && e.stack || e));
    finish(false);
  }
});
