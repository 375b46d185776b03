// Progressive enhancement for holdfast's pages; every page works without it.
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

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("textarea[data-counter]").forEach(attachCounter);
  document.querySelectorAll("form[data-confirm]").forEach(attachConfirm);
});
