// Shared helpers for the JS client suites (masto.test.js, megalodon.test.js).
// tests/compat/test_js_clients.py starts holdfast and runs `node --test` on one
// file with HOLDFAST_URL set; nothing here talks to anything but that server.
import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";

export const URL_BASE = process.env.HOLDFAST_URL;
if (!URL_BASE) {
  throw new Error("HOLDFAST_URL is not set (run through tests/compat/test_js_clients.py)");
}
export const OOB = "urn:ietf:wg:oauth:2.0:oob";
export const SCOPES = "read write follow push";
export const STEP_TIMEOUT_MS = 30_000;

/** A unique username: [a-z0-9_], at most 30 characters. */
export function uniqueName(prefix) {
  return `${prefix}_${randomBytes(5).toString("hex")}`.slice(0, 30);
}

/** A unique lowercase word usable as a hashtag or a search term. */
export function uniqueWord(prefix = "w") {
  return `${prefix}${randomBytes(6).toString("hex")}`;
}

// ---------------------------------------------------------------- images

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid RGB PNG of width x height: a diagonal gradient tinted by `seed`,
 * so two calls with different seeds give different images (and blurhashes).
 */
export function makePng(width = 64, height = 48, seed = 0) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3); // filter byte 0 (none)
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 255) / width;
      row[2 + x * 3] = (y * 255) / height;
      row[3 + x * 3] = (seed * 97) & 0xff;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// ------------------------------------------------------------------- HTTP

/** POST /oauth/token with the client-credentials grant: an app-level token. */
export async function appToken(clientId, clientSecret, scope = SCOPES) {
  const r = await fetch(`${URL_BASE}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uri: OOB,
      scope,
    }),
  });
  const body = await r.text();
  if (r.status !== 200) throw new Error(`client_credentials grant: ${r.status} ${body}`);
  return JSON.parse(body).access_token;
}

/** Fetch a URL the server handed out (media, avatar) and return status, type and bytes. */
export async function download(url) {
  const r = await fetch(url);
  return {
    status: r.status,
    contentType: r.headers.get("content-type") ?? "",
    bytes: Buffer.from(await r.arrayBuffer()),
  };
}

// ------------------------------------------- the authorize page, as a person

function unescapeHtml(s) {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attr(tag, name) {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag);
  if (!m) return undefined;
  return unescapeHtml(m[2] ?? m[3] ?? m[4] ?? "");
}

/**
 * The forms of a server-rendered page: action, method, hidden/text inputs and
 * submit buttons (id, name, value), enough to submit them as a browser would.
 */
export function parseForms(html, pageUrl) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, openAttrs, inner] = m;
    const fields = [];
    const buttons = [];
    for (const im of inner.matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const tag = im[0];
      const kind = im[1].toLowerCase();
      const type = (attr(tag, "type") ?? (kind === "button" ? "submit" : "text")).toLowerCase();
      const entry = { id: attr(tag, "id"), name: attr(tag, "name"), value: attr(tag, "value") ?? "", type };
      if (type === "submit") buttons.push(entry);
      else if (entry.name && !(type === "checkbox" && !/\schecked\b/i.test(tag))) fields.push(entry);
    }
    forms.push({
      action: new URL(attr(`<x ${openAttrs}>`, "action") ?? pageUrl, pageUrl).href,
      method: (attr(`<x ${openAttrs}>`, "method") ?? "get").toUpperCase(),
      fields,
      buttons,
    });
  }
  return forms;
}

/** A minimal cookie jar: the log-in step may carry its session to the consent step in a cookie. */
class CookieJar {
  #cookies = new Map();
  take(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

async function request(jar, url, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  const cookie = jar.header();
  if (cookie) headers.Cookie = cookie;
  const response = await fetch(url, { ...init, headers, redirect: "manual" });
  jar.take(response);
  return response;
}

/** Submit `form` by clicking the button with id `buttonId`, with `values` filled in. */
function submit(jar, form, buttonId, values) {
  const button = form.buttons.find((b) => b.id === buttonId);
  if (!button) throw new Error(`no button #${buttonId} in form ${JSON.stringify(form)}`);
  const body = new URLSearchParams();
  for (const f of form.fields) body.append(f.name, values[f.name] ?? f.value);
  if (button.name) body.append(button.name, button.value);
  if (form.method === "GET") {
    const url = new URL(form.action);
    url.search = body.toString();
    return request(jar, url);
  }
  return request(jar, form.action, {
    method: form.method,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
}

/**
 * Walk holdfast's /oauth/authorize page as a person with a browser would: the
 * log-in step (fields `email`, `password`, button #log-in), then the consent
 * step (button #authorize), and return the authorization code, read from the
 * redirect (`?code=`) or, for the out-of-band redirect URI, from the page.
 */
export async function authorizeWithoutBrowser(authorizeUrl, email, password) {
  const jar = new CookieJar();
  let pageUrl = String(authorizeUrl);
  let page = await request(jar, pageUrl);
  let html = await page.text();
  if (page.status !== 200) throw new Error(`GET authorize page: ${page.status} ${html.slice(0, 500)}`);
  for (let step = 0; step < 4; step++) {
    const forms = parseForms(html, pageUrl);
    const login = forms.find((f) => f.buttons.some((b) => b.id === "log-in"));
    const consent = forms.find((f) => f.buttons.some((b) => b.id === "authorize"));
    if (login) {
      page = await submit(jar, login, "log-in", { email, password });
    } else if (consent) {
      page = await submit(jar, consent, "authorize", { email, password });
    } else {
      const shown = /id="oauth-code"[^>]*>\s*([^<\s]+)\s*</.exec(html);
      if (shown) return unescapeHtml(shown[1]);
      throw new Error(`authorize page has no log-in form, consent form or code: ${html.slice(0, 2000)}`);
    }
    while (page.status >= 300 && page.status < 400) {
      const location = new URL(page.headers.get("location"), pageUrl);
      const code = location.searchParams.get("code");
      if (code) return code;
      if (location.origin !== new URL(URL_BASE).origin) {
        throw new Error(`authorize redirected away without a code: ${location}`);
      }
      pageUrl = location.href; // back to one of holdfast's own pages (e.g. the consent step)
      page = await request(jar, pageUrl);
    }
    html = await page.text();
    if (page.status !== 200) throw new Error(`authorize step ${step}: ${page.status} ${html.slice(0, 500)}`);
  }
  throw new Error("authorize flow did not end with a code within 4 steps");
}
