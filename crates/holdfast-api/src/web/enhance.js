// Progressive enhancement for holdfast's pages; every page works without it:
// a character counter, confirmation before destructive forms, the live home
// timeline, and a status page that refreshes itself.
// Served from /assets under a strict Content-Security-Policy (no inline script).
"use strict";

// A live character counter under each text box that declares its limit
// (data-max-chars) and names its output (data-counter).
function countChars(text) {
  // Mastodon counts every URL as 23 characters, whatever its length.
  return Array.from(text.replace(/https?:\/\/\S+/g, "x".repeat(23))).length;
}

function attachCounter(box) {
  const out = document.getElementById(box.dataset.counter);
  const max = parseInt(box.dataset.maxChars, 10);
  const warning = box.form && box.form.querySelector("[data-counts-with]");
  if (!out || !max) return;
  const update = () => {
    const used = countChars(box.value) + (warning ? countChars(warning.value) : 0);
    const left = max - used;
    out.textContent = left + " characters left";
    out.classList.toggle("over", left < 0);
  };
  box.addEventListener("input", update);
  if (warning) warning.addEventListener("input", update);
  update();
}

// Forms that destroy something ask first (data-confirm).
function attachConfirm(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// The live home timeline (data-live names its event stream, data-page the
// page it is the top of): on each new post the page is fetched again and the
// posts not shown yet are put on top, rendered by the server like the rest;
// a deleted post leaves. Without this script the page is the same, reloaded
// by hand.
const LIVE_FETCH_DELAY_MS = 250; // posts arriving together are fetched once

function attachLive(timeline) {
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  const announce = document.getElementById("live-status");
  let waiting = false;
  const addNewPosts = async () => {
    waiting = false;
    const response = await fetch(timeline.dataset.page, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById(timeline.id);
    if (!fresh) return;
    const before = timeline.querySelector("article.status");
    let added = 0;
    fresh.querySelectorAll(":scope > article.status").forEach((post) => {
      if (document.getElementById(post.id)) return;
      timeline.insertBefore(document.importNode(post, true), before);
      added += 1;
    });
    if (added > 0) {
      const empty = timeline.querySelector(":scope > p.empty");
      if (empty) empty.remove();
      if (announce) announce.textContent = added === 1 ? "1 new post" : added + " new posts";
    }
  };
  const source = new EventSource(timeline.dataset.live);
  source.addEventListener("update", () => {
    if (waiting) return;
    waiting = true;
    setTimeout(addNewPosts, LIVE_FETCH_DELAY_MS);
  });
  source.addEventListener("delete", (event) => {
    const post = document.getElementById("status-" + event.data);
    if (post && timeline.contains(post)) post.remove();
  });
}

// A report that refreshes itself (the status page: data-refresh names the
// page it is part of): fetched again now and then, and swapped in whole,
// with the page's title, which says the status too.
const REFRESH_EVERY_MS = 10000;

function attachRefresh(report) {
  if (!window.fetch || !window.DOMParser) return;
  setInterval(async () => {
    try {
      const response = await fetch(report.dataset.refresh, { credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById(report.id);
      const heading = page.querySelector("main h1");
      if (!fresh) return;
      report.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
      if (heading) {
        document.querySelector("main h1").textContent = heading.textContent;
        document.title = page.title;
      }
    } catch (e) {
      // The node may be down: keep the last figures; the next round tries again.
    }
  }, REFRESH_EVERY_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("textarea[data-counter]").forEach(attachCounter);
  document.querySelectorAll("form[data-confirm]").forEach(attachConfirm);
  document.querySelectorAll("[data-live]").forEach(attachLive);
  document.querySelectorAll("[data-refresh]").forEach(attachRefresh);
});
