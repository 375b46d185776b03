// Client compatibility: masto.js streaming (`createStreamingAPIClient`, a
// WebSocket with the token as its subprotocol) against a running holdfast.
// Subscribes to `user` and `public:local` on one socket and receives `update`,
// `notification` and `delete`. Run by tests/compat/test_js_streaming.py
// (HOLDFAST_URL set; Node 20 needs --experimental-websocket for the global WebSocket).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

import { OOB, SCOPES, STEP_TIMEOUT_MS, uniqueName, uniqueWord, URL_BASE } from "./helpers.js";

// masto.js' WebSocket connector uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const T = { timeout: STEP_TIMEOUT_MS };
const EVENT_WAIT_MS = 10_000;

async function signUp(prefix) {
  const anon = createRestAPIClient({ url: URL_BASE });
  const app = await anon.v1.apps.create({ clientName: "holdfast-compat-masto-streaming", redirectUris: OOB, scopes: SCOPES });
  const oauth = createOAuthAPIClient({ url: URL_BASE });
  const appToken = await oauth.token.create({
    grantType: "client_credentials", clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: OOB, scope: SCOPES,
  });
  const username = uniqueName(prefix);
  const asApp = createRestAPIClient({ url: URL_BASE, accessToken: appToken.accessToken });
  const token = await asApp.v1.accounts.create({
    username, email: `${username}@example.com`, password: `pw-${uniqueWord()}`, agreement: true, locale: "en",
  });
  const api = createRestAPIClient({ url: URL_BASE, accessToken: token.accessToken });
  const me = await api.v1.accounts.verifyCredentials();
  return { api, token: token.accessToken, me, username };
}

/** Collects a subscription's events; `next(pred)` waits for the first match. */
function collect(subscription) {
  const seen = [];
  let wake = () => {};
  (async () => {
    for await (const event of subscription) {
      seen.push(event);
      wake();
    }
  })().catch(() => {});
  return {
    async next(pred, what, waitMs = EVENT_WAIT_MS) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const i = seen.findIndex(pred);
        if (i >= 0) return seen.splice(i, 1)[0];
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${what} within ${waitMs} ms; saw ${JSON.stringify(seen.map((e) => [e.stream, e.event]))}`);
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(left, 200));
        });
      }
    },
  };
}

describe("masto.js streaming against holdfast", () => {
  let alice;
  let bob;
  let streaming;
  let user;
  let local;

  before(async () => {
    [alice, bob] = await Promise.all([signUp("msa"), signUp("msb")]);
    await alice.api.v1.accounts.$select(bob.me.id).follow();
    const instance = await alice.api.v2.instance.fetch();
    assert.match(instance.configuration.urls.streaming, /^ws:\/\//);
    streaming = createStreamingAPIClient({
      streamingApiUrl: instance.configuration.urls.streaming,
      accessToken: alice.token,
      retry: false,
    });
    user = collect(streaming.user.subscribe());
    local = collect(streaming.public.local.subscribe());
    // The socket opens lazily: probe until both subscriptions deliver.
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const probe = await alice.api.v1.statuses.create({ status: `probe ${uniqueWord()}` });
      try {
        await user.next((e) => e.event === "update" && e.payload.id === probe.id, "probe on user", 500);
        await local.next((e) => e.event === "update" && e.payload.id === probe.id, "probe on public:local", 500);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
  });

  after(() => streaming?.close());

  let posted;
  test("update on user and public:local", T, async () => {
    posted = await bob.api.v1.statuses.create({ status: `streamed ${uniqueWord()}` });
    const onUser = await user.next((e) => e.event === "update" && e.payload.id === posted.id, "user update");
    assert.deepEqual(onUser.stream, ["user"]);
    assert.equal(onUser.payload.account.id, bob.me.id);
    const onLocal = await local.next((e) => e.event === "update" && e.payload.id === posted.id, "public:local update");
    assert.deepEqual(onLocal.stream, ["public:local"]);
  });

  test("notification on user", T, async () => {
    await bob.api.v1.statuses.create({ status: `hi @${alice.username}` });
    const n = await user.next((e) => e.event === "notification", "notification");
    assert.equal(n.payload.type, "mention");
    assert.equal(n.payload.account.id, bob.me.id);
  });

  test("delete carries the bare id", T, async () => {
    await bob.api.v1.statuses.$select(posted.id).remove();
    const d = await user.next((e) => e.event === "delete", "delete");
    assert.equal(d.payload, posted.id);
    const d2 = await local.next((e) => e.event === "delete", "public:local delete");
    assert.equal(d2.payload, posted.id);
  });
});
