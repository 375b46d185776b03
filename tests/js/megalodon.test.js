// Client compatibility: the real megalodon (npm, pinned in package.json) against
// a running holdfast, through its public API only. megalodon is the library
// behind desktop clients such as Whalebird; it speaks JSON and URL parameters
// through axios and uploads media with the `form-data` package.
//
// Where megalodon's API stops, the test says so and does not pretend:
//   - it has no client-credentials grant, so the app token for sign-up is
//     fetched with a plain POST /oauth/token (the rest of sign-up is megalodon's);
//   - it logs in only with the authorization code: the test walks holdfast's
//     authorize page like a person (log-in step, consent step) and hands the
//     code to megalodon's fetchAccessToken;
//   - it has no grouped (v2) notifications, and its updateCredentials sends
//     JSON only (an avatar is a string there), so the avatar upload is
//     masto.js's and Mastodon.py's to test.
//
// Run by tests/compat/test_js_clients.py (HOLDFAST_URL set).
import assert from "node:assert/strict";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import generator from "megalodon";

import {
  appToken,
  authorizeWithoutBrowser,
  download,
  makePng,
  OOB,
  STEP_TIMEOUT_MS,
  uniqueName,
  uniqueWord,
  URL_BASE,
} from "./helpers.js";

const T = { timeout: STEP_TIMEOUT_MS };
const SCOPES = ["read", "write", "follow"];
const PAGE_SIZE = 3;
const TEXT_POSTS = 7;

/** axios errors are long objects; say what failed in one line instead. */
function explain(err) {
  if (!err?.isAxiosError) return err;
  const body = err.response ? JSON.stringify(err.response.data).slice(0, 500) : "(no response)";
  return new Error(`${err.config?.method?.toUpperCase()} ${err.config?.url}: ${err.response?.status ?? err.code} ${body}`);
}

/** A scenario step: a node:test test with a time limit and readable HTTP errors. */
function step(name, fn) {
  return test(name, T, async () => {
    try {
      await fn();
    } catch (err) {
      throw explain(err);
    }
  });
}

/** The `next` link's max_id from a Link header, or undefined. */
function nextMaxId(link) {
  if (!link) return undefined;
  for (const part of String(link).split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return new URL(m[1]).searchParams.get("max_id") ?? undefined;
  }
  return undefined;
}

/** Expect `promise` to fail with megalodon's HTTP error (axios's) of `status`. */
async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (err) => {
    assert.equal(err?.response?.status, status, `expected HTTP ${status}, got ${err}`);
    assert.equal(typeof err.response.data?.error, "string", `a JSON error body: ${JSON.stringify(err.response.data)}`);
    return true;
  });
}

async function signUpAndLogIn(prefix) {
  const app = await generator("mastodon", URL_BASE).registerApp("holdfast-compat-megalodon", {
    scopes: SCOPES,
    redirect_uris: OOB,
    website: "https://example.invalid",
  });
  assert.ok(app.client_id && app.client_secret, JSON.stringify(app));
  assert.ok(app.url?.startsWith(`${URL_BASE}/oauth/authorize?`), `authorize URL: ${app.url}`);

  const username = uniqueName(prefix);
  const email = `${username}@example.com`;
  const password = `pw-${uniqueWord()}`;
  const asApp = generator("mastodon", URL_BASE, await appToken(app.client_id, app.client_secret, SCOPES.join(" ")));
  const signUp = await asApp.registerAccount(username, email, password, true, "en");
  assert.ok(signUp.data.access_token, JSON.stringify(signUp.data));

  const code = await authorizeWithoutBrowser(app.url, email, password);
  const token = await generator("mastodon", URL_BASE).fetchAccessToken(app.client_id, app.client_secret, code, OOB);
  assert.ok(token.access_token, JSON.stringify(token));
  return { client: generator("mastodon", URL_BASE, token.access_token), username, email, password, app };
}

describe("megalodon against holdfast", () => {
  let alice;
  let bob;
  let picturePost;
  let target; // the text post alice favourites, reblogs, and bob deletes
  const bobPosts = [];
  const word = uniqueWord("mega");
  const dir = mkdtempSync(join(tmpdir(), "holdfast-megalodon-"));

  before(async () => {
    try {
      [alice, bob] = await Promise.all([signUpAndLogIn("ga"), signUpAndLogIn("gb")]);
    } catch (err) {
      throw explain(err);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  step("verify app and account credentials", async () => {
    const me = (await alice.client.verifyAccountCredentials()).data;
    assert.equal(me.username, alice.username);
    alice.id = me.id;
    bob.id = (await bob.client.verifyAccountCredentials()).data.id;
    const app = (await alice.client.verifyAppCredentials()).data;
    assert.equal(app.name, "holdfast-compat-megalodon");
  });

  step("alice follows bob", async () => {
    const rel = (await alice.client.followAccount(bob.id)).data;
    assert.equal(rel.following, true);
    const [back] = (await bob.client.getRelationships([alice.id])).data;
    assert.equal(back.followed_by, true);
  });

  step("bob posts statuses, one with a hashtag", async () => {
    for (let i = 0; i < TEXT_POSTS; i++) {
      const text = i === 0 ? `first post #${word}` : `post ${i} ${word}`;
      const status = (await bob.client.postStatus(text)).data;
      assert.equal(status.account.id, bob.id);
      bobPosts.push(status.id);
    }
    target = bobPosts[0];
  });

  step("bob uploads an image from a file with a description and posts it", async () => {
    const path = join(dir, "gradient.png");
    writeFileSync(path, makePng(80, 40, 3));
    const description = `a gradient, uploaded by megalodon ${word}`;
    const res = await bob.client.uploadMedia(createReadStream(path), { description });
    let media = res.data;
    assert.ok(media.id, JSON.stringify(media));
    if (!media.url) {
      // 202 Accepted: still processing; megalodon leaves the polling to the app.
      for (let i = 0; i < 50 && !media.url; i++) {
        await new Promise((r) => setTimeout(r, 100));
        media = (await bob.client.getMedia(media.id)).data;
      }
    }
    assert.equal(media.type, "image");
    assert.equal(media.description, description);
    const served = await download(media.url);
    assert.equal(served.status, 200);
    assert.match(served.contentType, /^image\//);

    picturePost = (await bob.client.postStatus(`a picture ${word}`, { media_ids: [media.id] })).data;
    assert.deepEqual(picturePost.media_attachments.map((m) => m.id), [media.id]);
    assert.equal(picturePost.media_attachments[0].description, description);
    bobPosts.push(picturePost.id);
  });

  step("alice pages through her home timeline by its Link headers", async () => {
    const seen = [];
    let maxId;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 20, "pagination did not end within 20 pages");
      const res = await alice.client.getHomeTimeline({ limit: PAGE_SIZE, ...(maxId ? { max_id: maxId } : {}) });
      assert.ok(res.data.length <= PAGE_SIZE);
      seen.push(...res.data.map((s) => s.id));
      maxId = nextMaxId(res.headers.link);
      if (res.data.length === 0 || !maxId) break;
    }
    assert.ok(bobPosts.length >= TEXT_POSTS);
    assert.deepEqual(seen, [...bobPosts].reverse(), "every post once, newest first, across pages");
  });

  step("alice favourites and reblogs a post", async () => {
    const fav = (await alice.client.favouriteStatus(target)).data;
    assert.equal(fav.favourited, true);
    const rb = (await alice.client.reblogStatus(target)).data;
    assert.equal(rb.reblog?.id, target);
    const seen = (await bob.client.getStatus(target)).data;
    assert.equal(seen.favourites_count, 1);
    assert.equal(seen.reblogs_count, 1);
  });

  step("bob sees the notifications", async () => {
    const notes = (await bob.client.getNotifications()).data;
    assert.deepEqual(notes.map((n) => n.type).sort(), ["favourite", "follow", "reblog"]);
    assert.ok(notes.every((n) => n.account.id === alice.id));
    const noFollows = (await bob.client.getNotifications({ exclude_types: ["follow"] })).data;
    assert.deepEqual(noFollows.map((n) => n.type).sort(), ["favourite", "reblog"]);
  });

  step("search finds bob and the tag", async () => {
    const byName = (await alice.client.search(bob.username, { type: "accounts" })).data;
    assert.ok(byName.accounts.some((a) => a.id === bob.id), JSON.stringify(byName));
    const byTag = (await alice.client.search(`#${word}`, { type: "hashtags" })).data;
    assert.ok(byTag.hashtags.some((t) => t.name === word), JSON.stringify(byTag));
  });

  step("alice updates her profile (JSON PATCH)", async () => {
    const me = (await alice.client.updateCredentials({ display_name: "Alice via megalodon", note: word })).data;
    assert.equal(me.display_name, "Alice via megalodon");
    assert.ok(me.note.includes(word), me.note);
  });

  step("bob deletes the post; then it is a 404", async () => {
    await bob.client.deleteStatus(target);
    await rejectsWithStatus(bob.client.getStatus(target), 404);
    await rejectsWithStatus(alice.client.getAccount("1"), 404);
  });
});
