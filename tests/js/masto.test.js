// Client compatibility: the real masto.js (npm `masto`, pinned in package.json)
// against a running holdfast, through its public API only, as a web client
// such as Elk or Phanpy uses it. masto.js decides what it sends: sign-up,
// avatars and media go as multipart/form-data, the rest as JSON; pagination
// follows the Link header; errors arrive as MastoHttpError.
//
// Run by tests/compat/test_js_clients.py (HOLDFAST_URL set). The steps share
// state and run in order (node:test runs a describe block's tests one by one).
import assert from "node:assert/strict";
import { Blob, File } from "node:buffer"; // globals from Node 20 on; imported for Node 18
import { before, describe, test } from "node:test";

import { createOAuthAPIClient, createRestAPIClient, MastoHttpError } from "masto";

import { download, makePng, OOB, SCOPES, STEP_TIMEOUT_MS, uniqueName, uniqueWord, URL_BASE } from "./helpers.js";

const T = { timeout: STEP_TIMEOUT_MS };
const PAGE_SIZE = 3;
const TEXT_POSTS = 7; // 3 pages of 3 at least, 4 with the picture

/** Say what failed in one line: a MastoHttpError's status and body, a failed fetch's cause. */
function explain(err) {
  if (err instanceof MastoHttpError) {
    const url = err.cause?.url ?? "";
    err.message = `${url} ${err.statusCode}: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ""}`;
  } else if (err instanceof TypeError && err.cause) {
    err.message = `${err.message}: ${err.cause.code ?? ""} ${err.cause.message ?? err.cause}`;
  }
  return err;
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

async function registerApp() {
  const anon = createRestAPIClient({ url: URL_BASE });
  const app = await anon.v1.apps.create({
    clientName: "holdfast-compat-masto",
    redirectUris: OOB,
    scopes: SCOPES,
    website: "https://example.invalid",
  });
  assert.equal(app.name, "holdfast-compat-masto");
  assert.ok(app.clientId && app.clientSecret, `app has credentials: ${JSON.stringify(app)}`);
  return app;
}

/** Register an app, sign up through v1.accounts.create, then log in with the password grant. */
async function signUpAndLogIn(prefix) {
  const app = await registerApp();
  const oauth = createOAuthAPIClient({ url: URL_BASE });
  const appToken = await oauth.token.create({
    grantType: "client_credentials",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    scope: SCOPES,
  });
  const username = uniqueName(prefix);
  const email = `${username}@example.com`;
  const password = `pw-${uniqueWord()}`;
  const asApp = createRestAPIClient({ url: URL_BASE, accessToken: appToken.accessToken });
  const signUpToken = await asApp.v1.accounts.create({ username, email, password, agreement: true, locale: "en" });
  assert.ok(signUpToken.accessToken, `sign-up returns a token: ${JSON.stringify(signUpToken)}`);
  assert.equal(signUpToken.tokenType, "Bearer");

  const login = await oauth.token.create({
    grantType: "password",
    username: email,
    password,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    scope: SCOPES,
  });
  assert.ok(login.accessToken);
  assert.notEqual(login.accessToken, signUpToken.accessToken);
  const api = createRestAPIClient({ url: URL_BASE, accessToken: login.accessToken });
  return { api, username, email, password, signUpToken: signUpToken.accessToken };
}

describe("masto.js against holdfast", () => {
  let alice;
  let bob;
  let media;
  let mediaPost;
  let target; // the text post alice favourites, reblogs, and bob deletes
  const bobPosts = [];
  const word = uniqueWord("masto");

  before(async () => {
    try {
      [alice, bob] = await Promise.all([signUpAndLogIn("ma"), signUpAndLogIn("mb")]);
    } catch (err) {
      throw explain(err);
    }
  });

  step("verify credentials, with the sign-up token and the log-in token", async () => {
    const me = await alice.api.v1.accounts.verifyCredentials();
    assert.equal(me.username, alice.username);
    assert.equal(me.acct, alice.username);
    assert.ok(me.source, "verify_credentials includes source");
    alice.id = me.id;
    const viaSignUp = createRestAPIClient({ url: URL_BASE, accessToken: alice.signUpToken });
    assert.equal((await viaSignUp.v1.accounts.verifyCredentials()).id, me.id);
    bob.id = (await bob.api.v1.accounts.verifyCredentials()).id;
    assert.notEqual(alice.id, bob.id);
  });

  step("a taken username is a MastoHttpError 422 with per-field details", async () => {
    const app = await registerApp();
    const token = await createOAuthAPIClient({ url: URL_BASE }).token.create({
      grantType: "client_credentials",
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: OOB,
      scope: SCOPES,
    });
    const asApp = createRestAPIClient({ url: URL_BASE, accessToken: token.accessToken });
    await assert.rejects(
      () => asApp.v1.accounts.create({
        username: alice.username,
        email: `other-${alice.email}`,
        password: `pw-${uniqueWord()}`,
        agreement: true,
        locale: "en",
      }),
      (err) => {
        assert.ok(err instanceof MastoHttpError, `expected MastoHttpError, got ${err}`);
        assert.equal(err.statusCode, 422);
        assert.ok(err.details?.username?.length, `details.username: ${JSON.stringify(err.details)}`);
        assert.ok(err.details.username[0].error, JSON.stringify(err.details));
        return true;
      },
    );
  });

  step("alice follows bob", async () => {
    const rel = await alice.api.v1.accounts.$select(bob.id).follow();
    assert.equal(rel.id, bob.id);
    assert.equal(rel.following, true);
    const [back] = await bob.api.v1.accounts.relationships.fetch({ id: [alice.id] });
    assert.equal(back.followedBy, true);
  });

  step("bob posts statuses, one with a hashtag", async () => {
    for (let i = 0; i < TEXT_POSTS; i++) {
      const text = i === 0 ? `first post #${word}` : `post ${i} ${word}`;
      const status = await bob.api.v1.statuses.create({ status: text });
      assert.equal(status.account.id, bob.id);
      bobPosts.push(status.id);
    }
    target = bobPosts[0];
  });

  step("bob uploads an image with a description (v2.media.create) and posts it", async () => {
    const png = makePng(64, 48, 1);
    const description = `a gradient, uploaded by masto.js ${word}`;
    media = await bob.api.v2.media.create({
      file: new Blob([png], { type: "image/png" }),
      description,
    });
    assert.equal(media.type, "image");
    assert.equal(media.description, description);
    assert.ok(media.url, `processed media has a url: ${JSON.stringify(media)}`);
    assert.ok(media.previewUrl, "media has a preview_url");
    const served = await download(media.url);
    assert.equal(served.status, 200);
    assert.match(served.contentType, /^image\//);

    mediaPost = await bob.api.v1.statuses.create({ status: `a picture ${word}`, mediaIds: [media.id] });
    assert.equal(mediaPost.mediaAttachments.length, 1);
    assert.equal(mediaPost.mediaAttachments[0].id, media.id);
    assert.equal(mediaPost.mediaAttachments[0].description, description);
    assert.equal(mediaPost.mediaAttachments[0].type, "image");
    bobPosts.push(mediaPost.id);
    const seenByAlice = await alice.api.v1.statuses.$select(mediaPost.id).fetch();
    assert.deepEqual(seenByAlice.mediaAttachments.map((m) => m.id), [media.id]);
  });

  step("alice pages through her home timeline with the async iterator", async () => {
    const seen = [];
    let pages = 0;
    for await (const page of alice.api.v1.timelines.home.list({ limit: PAGE_SIZE })) {
      assert.ok(page.length <= PAGE_SIZE, `page of ${page.length} > limit ${PAGE_SIZE}`);
      if (page.length === 0) break;
      pages++;
      seen.push(...page.map((s) => s.id));
      if (pages > 20) assert.fail("pagination did not end within 20 pages");
    }
    assert.ok(bobPosts.length >= TEXT_POSTS);
    assert.deepEqual(seen, [...bobPosts].reverse(), "every post once, newest first, across pages");
    assert.ok(pages >= 3, `walked ${pages} pages`);
  });

  step("alice filters bob's posts (v2 filters): warned in home, hidden once the action is hide", async () => {
    const filter = await alice.api.v2.filters.create({
      title: "masto.js filter",
      context: ["home"],
      filterAction: "warn",
      keywordsAttributes: [{ keyword: word, wholeWord: true }],
    });
    assert.equal(filter.keywords[0].keyword, word);
    const home = await alice.api.v1.timelines.home.list({ limit: 40 });
    const warned = home.find((s) => s.id === bobPosts[1]);
    assert.equal(warned?.filtered?.[0]?.filter?.id, filter.id, JSON.stringify(warned?.filtered));
    assert.deepEqual(warned.filtered[0].keywordMatches, [word]);
    const kw = await alice.api.v2.filters.$select(filter.id).keywords.create({ keyword: "other", wholeWord: false });
    assert.equal((await alice.api.v2.filters.keywords.$select(kw.id).fetch()).keyword, "other");
    const hide = await alice.api.v2.filters.$select(filter.id).update({ filterAction: "hide" });
    assert.equal(hide.filterAction, "hide");
    const hidden = await alice.api.v1.timelines.home.list({ limit: 40 });
    assert.ok(!hidden.some((s) => s.id === bobPosts[1]), "a hide filter drops the status");
    await alice.api.v2.filters.$select(filter.id).remove();
    assert.deepEqual(await alice.api.v2.filters.list(), []);
  });

  step("alice favourites and reblogs a post", async () => {
    const fav = await alice.api.v1.statuses.$select(target).favourite();
    assert.equal(fav.favourited, true);
    assert.equal(fav.favouritesCount, 1);
    const rb = await alice.api.v1.statuses.$select(target).reblog();
    assert.equal(rb.reblog?.id, target);
    assert.equal(rb.account.id, alice.id);
    const after = await bob.api.v1.statuses.$select(target).fetch();
    assert.equal(after.reblogsCount, 1);
    assert.equal(after.favouritesCount, 1);
  });

  step("bob sees grouped notifications (v2) and plain ones (v1)", async () => {
    const grouped = await bob.api.v2.notifications.list();
    const groupTypes = grouped.notificationGroups.map((g) => g.type).sort();
    assert.deepEqual(groupTypes, ["favourite", "follow", "reblog"]);
    for (const group of grouped.notificationGroups) {
      assert.ok(group.groupKey, "group has a group_key");
      assert.equal(group.notificationsCount, 1);
      assert.deepEqual(group.sampleAccountIds, [alice.id]);
      if (group.type !== "follow") assert.equal(group.statusId, target);
    }
    assert.deepEqual(grouped.accounts.map((a) => a.id), [alice.id]);
    assert.deepEqual(grouped.statuses.map((s) => s.id), [target]);
    const unread = await bob.api.v2.notifications.unreadCount.fetch();
    assert.equal(unread.count, 3);

    const plain = await bob.api.v1.notifications.list();
    assert.deepEqual(plain.map((n) => n.type).sort(), ["favourite", "follow", "reblog"]);
    assert.ok(plain.every((n) => n.account.id === alice.id));
    const onlyFavs = await bob.api.v1.notifications.list({ types: ["favourite"] });
    assert.deepEqual(onlyFavs.map((n) => n.status?.id), [target]);
  });

  step("search finds bob's account and the tag", async () => {
    const byName = await alice.api.v2.search.list({ q: bob.username, type: "accounts" });
    assert.ok(byName.accounts.some((a) => a.id === bob.id), JSON.stringify(byName.accounts));
    const byTag = await alice.api.v2.search.list({ q: `#${word}`, type: "hashtags" });
    assert.ok(byTag.hashtags.some((t) => t.name === word), JSON.stringify(byTag.hashtags));
  });

  step("alice sets her avatar with updateCredentials (multipart)", async () => {
    const before = await alice.api.v1.accounts.verifyCredentials();
    const me = await alice.api.v1.accounts.updateCredentials({
      displayName: "Alice via masto.js",
      avatar: new File([makePng(96, 96, 2)], "avatar.png", { type: "image/png" }),
    });
    assert.equal(me.displayName, "Alice via masto.js");
    assert.notEqual(me.avatar, before.avatar, "avatar URL changes");
    const served = await download(me.avatar);
    assert.equal(served.status, 200);
    assert.match(served.contentType, /^image\//);
    assert.equal((await bob.api.v1.accounts.$select(alice.id).fetch()).avatar, me.avatar);
  });

  step("bob deletes the post; fetching it is a MastoHttpError 404", async () => {
    const deleted = await bob.api.v1.statuses.$select(target).remove();
    assert.equal(deleted.id, target);
    await assert.rejects(
      () => bob.api.v1.statuses.$select(target).fetch(),
      (err) => {
        assert.ok(err instanceof MastoHttpError, `expected MastoHttpError, got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.statusCode, 404);
        assert.ok(err.message, "the error carries the server's message");
        return true;
      },
    );
  });

  step("alice edits a status and reads its history and source", async () => {
    const st = await alice.api.v1.statuses.create({ status: `before ${word}` });
    const edited = await alice.api.v1.statuses.$select(st.id).update({ status: `after ${word}` });
    assert.equal(edited.id, st.id);
    assert.ok(edited.editedAt, "an edited status has editedAt");
    const history = await alice.api.v1.statuses.$select(st.id).history.list();
    assert.equal(history.length, 2);
    assert.match(history[0].content, /before/);
    const source = await alice.api.v1.statuses.$select(st.id).source.fetch();
    assert.equal(source.text, `after ${word}`);
  });

  step("bob votes in alice's poll; a second vote is a MastoHttpError 422", async () => {
    const st = await alice.api.v1.statuses.create({
      status: "which?",
      poll: { options: ["one", "two"], expiresIn: 600 },
    });
    const poll = await bob.api.v1.polls.$select(st.poll.id).votes.create({ choices: [1] });
    assert.equal(poll.voted, true);
    assert.deepEqual(poll.ownVotes, [1]);
    await assert.rejects(
      () => bob.api.v1.polls.$select(st.poll.id).votes.create({ choices: [0] }),
      (err) => err instanceof MastoHttpError && err.statusCode === 422,
    );
  });

  step("alice schedules a status, moves it and cancels it", async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const sched = await alice.api.v1.statuses.create({ status: "later", scheduledAt: at });
    assert.equal(sched.params.text, "later");
    const listed = await alice.api.v1.scheduledStatuses.list();
    assert.deepEqual(listed.map((s) => s.id), [sched.id]);
    const later = new Date(Date.now() + 7_200_000).toISOString();
    const moved = await alice.api.v1.scheduledStatuses.$select(sched.id).update({ scheduledAt: later });
    assert.ok(new Date(moved.scheduledAt) > new Date(sched.scheduledAt));
    await alice.api.v1.scheduledStatuses.$select(sched.id).remove();
    assert.deepEqual(await alice.api.v1.scheduledStatuses.list(), []);
  });

  step("alice makes a list with bob, reads its timeline, then empties and deletes it", async () => {
    const list = await alice.api.v1.lists.create({ title: `friends ${word}`, exclusive: false });
    assert.equal(list.title, `friends ${word}`);
    await alice.api.v1.lists.$select(list.id).accounts.create({ accountIds: [bob.id] });
    const members = await alice.api.v1.lists.$select(list.id).accounts.list();
    assert.deepEqual(members.map((a) => a.id), [bob.id]);
    const posted = await bob.api.v1.statuses.create({ status: `for the list ${word}` });
    const timeline = await alice.api.v1.timelines.list.$select(list.id).list({ limit: 5 });
    assert.equal(timeline[0].id, posted.id);
    assert.ok(timeline.every((s) => s.account.id === bob.id));
    const lists = await alice.api.v1.lists.list();
    assert.deepEqual(lists.map((l) => l.id), [list.id]);
    await alice.api.v1.lists.$select(list.id).accounts.remove({ accountIds: [bob.id] });
    assert.deepEqual(await alice.api.v1.lists.$select(list.id).accounts.list(), []);
    await alice.api.v1.lists.$select(list.id).remove();
    await assert.rejects(
      () => alice.api.v1.lists.$select(list.id).fetch(),
      (err) => err instanceof MastoHttpError && err.statusCode === 404,
    );
  });

  step("bob asks to follow a locked alice; she lists and authorizes the request", async () => {
    const me = await alice.api.v1.accounts.updateCredentials({ locked: true });
    assert.equal(me.locked, true);
    const asked = await bob.api.v1.accounts.$select(alice.id).follow();
    assert.equal(asked.requested, true);
    assert.equal(asked.following, false);
    const pending = await alice.api.v1.followRequests.list();
    assert.deepEqual(pending.map((a) => a.id), [bob.id]);
    const rel = await alice.api.v1.followRequests.$select(bob.id).authorize();
    assert.equal(rel.followedBy, true);
    assert.deepEqual(await alice.api.v1.followRequests.list(), []);
    const [now] = await bob.api.v1.accounts.relationships.fetch({ id: [alice.id] });
    assert.equal(now.following, true);
    await assert.rejects(
      () => alice.api.v1.followRequests.$select(bob.id).reject(),
      (err) => err instanceof MastoHttpError && err.statusCode === 404,
    );
  });

  step("an unknown account is a MastoHttpError 404", async () => {
    await assert.rejects(
      () => alice.api.v1.accounts.$select("1").fetch(),
      (err) => err instanceof MastoHttpError && err.statusCode === 404,
    );
  });
});
