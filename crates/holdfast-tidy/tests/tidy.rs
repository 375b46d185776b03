//! The architecture rules of ARCHITECTURE.md ("Invariants"), checked by
//! reading the source tree, in the manner of rust-analyzer's tidy tests.
//!
//! Each rule is one `#[test]`; a failure lists every offending `file:line`,
//! the rule, and how to fix it. The source is read through a small Rust
//! tokenizer (strings, comments, raw strings, char literals), so text in
//! comments never counts and text in strings is seen as a string. Test code
//! (`#[cfg(test)]` items, `tests/` folders) is exempt from the `bounds` and
//! `html` rules: a test's sleep is not a limit of the server.
//!
//! Exemptions are either permanent (`EXEMPT`, with the reason) or marked in
//! the code itself: a `// fact: <why>` comment on a line, or on the comment
//! lines right above it, says a number is a protocol or format fact (PKCE's
//! 43..=128 characters), not a tunable bound.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// The rules' scopes
// ---------------------------------------------------------------------------

/// Crates of the server on the request path (the testbed and this crate are tools).
const SERVER_CRATES: &[&str] = &[
    "holdfast",
    "holdfast-api",
    "holdfast-config",
    "holdfast-guard",
    "holdfast-service",
    "holdfast-store",
];

/// Files a rule does not apply to, for good. (rule, file, why)
const EXEMPT: &[(&str, &str, &str)] = &[
    (
        "sql",
        "crates/holdfast-testbed/src/cluster.rs",
        "`holdfast cluster up` creates the database with psql, as an operator would, before any holdfast node (and so any store) exists",
    ),
    (
        "sql",
        "crates/holdfast-testbed/src/drill.rs",
        "`holdfast drill` watches the database members from outside holdfast, as an operator would (when a new primary leaves recovery and takes a commit, whether a cut-off primary still takes writes): it measures the nodes, it is not one",
    ),
];

/// Files (or folders, ending in `/`) that still break a rule while someone
/// ports them (rule, path).
/// Temporary: must be empty when the work lands; an entry whose file has
/// become clean fails the test too, so the list only shrinks.
const PENDING: &[(&str, &str)] = &[];

// ---------------------------------------------------------------------------
// Rule: only holdfast-store has SQL
// ---------------------------------------------------------------------------

#[test]
fn sql_lives_only_in_the_store() {
    let mut found = Vec::new();
    for file in sources() {
        if file.krate == "holdfast-store" || file.krate == "holdfast-tidy" {
            continue;
        }
        for t in &file.tokens {
            match t.kind {
                Kind::Str if looks_like_sql(&t.text) => found.push(file.finding(
                    "sql",
                    t.line,
                    format!("SQL in a string: {:?}", first_chars(&t.text)),
                )),
                Kind::Ident if t.text == "rusqlite" || t.text == "tokio_postgres" => found
                    .push(file.finding("sql", t.line, format!("a database driver: `{}`", t.text))),
                _ => {}
            }
        }
    }
    report(
        "sql",
        found,
        "only holdfast-store speaks SQL: add a Store method (written once in the store core) and call it through the service",
    );
}

/// Upper-case SQL as the store writes it: a statement's leading keywords.
fn looks_like_sql(s: &str) -> bool {
    let words: Vec<&str> = s
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    (has("SELECT") && has("FROM"))
        || pair("INSERT", "INTO")
        || pair("DELETE", "FROM")
        || (has("UPDATE") && has("SET"))
        || [
            "TABLE", "INDEX", "DATABASE", "UNIQUE", "SEQUENCE", "FUNCTION",
        ]
        .iter()
        .any(|w| pair("CREATE", w) || pair("ALTER", w) || pair("DROP", w))
        || has("PRAGMA")
        || pair("ON", "CONFLICT")
        || pair("WITH", "RECURSIVE")
}

// ---------------------------------------------------------------------------
// Rule: only holdfast-api (and the guard, the HTTP edge) know HTTP
// ---------------------------------------------------------------------------

/// Crates that must not know HTTP: the domain, the store, the settings and
/// the binary's wiring (which hands the router to the guard's `edge`).
const NO_HTTP_CRATES: &[&str] = &[
    "holdfast",
    "holdfast-config",
    "holdfast-service",
    "holdfast-store",
];

/// The guard's decisions, which know no HTTP either: plain functions over
/// addresses, keys, counts and clocks, testable without a server. The rest of
/// the guard is its HTTP edge (`lib.rs`'s `screen`, listener, CORS, cache,
/// classify, forwarded, bodies, tls), which turns requests into those inputs.
const GUARD_DECISIONS: &[&str] = &[
    "crates/holdfast-guard/src/admission.rs",
    "crates/holdfast-guard/src/linger.rs",
    "crates/holdfast-guard/src/netaddr.rs",
    "crates/holdfast-guard/src/offenders.rs",
    "crates/holdfast-guard/src/ratelimit.rs",
    "crates/holdfast-guard/src/refusals.rs",
    "crates/holdfast-guard/src/tokens.rs",
];

const HTTP_NAMES: &[&str] = &[
    "axum",
    "hyper",
    "hyper_util",
    "http",
    "http_body",
    "http_body_util",
    "tower",
    "tower_http",
    "StatusCode",
    "HeaderMap",
    "HeaderName",
    "HeaderValue",
];

#[test]
fn http_lives_only_in_the_api_and_the_guard() {
    let mut found = Vec::new();
    for file in sources() {
        // Mastodon's error body is written by holdfast-api alone (the guard's
        // refusals too, through `holdfast_api::refusal`).
        if SERVER_CRATES.contains(&file.krate.as_str()) && file.krate != "holdfast-api" {
            for t in file
                .tokens
                .iter()
                .filter(|t| t.kind == Kind::Str && !t.in_test)
            {
                if t.text == "error" || t.text.contains("\\\"error\\\"") {
                    found.push(file.finding(
                        "http",
                        t.line,
                        format!(
                            "Mastodon's error JSON written by hand: {:?}",
                            first_chars(&t.text)
                        ),
                    ));
                }
            }
        }
        if GUARD_DECISIONS.contains(&file.path.as_str()) {
            for t in file.tokens.iter().filter(|t| t.kind == Kind::Ident) {
                if HTTP_NAMES.contains(&t.text.as_str()) {
                    found.push(file.finding(
                        "http",
                        t.line,
                        format!("an HTTP name in one of the guard's decisions: `{}`", t.text),
                    ));
                }
            }
        }
        if !NO_HTTP_CRATES.contains(&file.krate.as_str()) {
            continue;
        }
        for t in &file.tokens {
            if t.kind == Kind::Ident && HTTP_NAMES.contains(&t.text.as_str()) {
                found.push(file.finding("http", t.line, format!("an HTTP name: `{}`", t.text)));
            }
            // An error status (4xx/5xx) written as a number is HTTP in disguise
            // (not in holdfast-config, whose numbers are bounds).
            if t.kind == Kind::Num && !t.in_test && file.krate != "holdfast-config" {
                if let Some(v) = integer(&t.text) {
                    if (400..=511).contains(&v) {
                        found.push(file.finding(
                            "http",
                            t.line,
                            format!("{} looks like an HTTP status code", t.text),
                        ));
                    }
                }
            }
        }
    }
    for krate in NO_HTTP_CRATES {
        let manifest = format!("crates/{krate}/Cargo.toml");
        let text = std::fs::read_to_string(root().join(&manifest)).expect("a crate manifest");
        for (i, line) in text.lines().enumerate() {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("");
            if HTTP_NAMES.contains(&name) {
                found.push(Finding {
                    rule: "http",
                    at: format!("{manifest}:{}", i + 1),
                    what: format!("an HTTP dependency: `{name}`"),
                });
            }
        }
    }
    report(
        "http",
        found,
        "only holdfast-api (handlers, errors) and holdfast-guard (the edge) know HTTP: return a domain error or value (ServiceError, a row) and let holdfast-api map it to a status and a body; a number that is not a status is a bound, which belongs in Limits; an error body is written by holdfast-api only (the guard gets `holdfast_api::refusal`)",
    );
}

// ---------------------------------------------------------------------------
// Rule: every bound is in Limits
// ---------------------------------------------------------------------------

/// Crates where a number may not be a bound (holdfast-config is where bounds live).
const BOUND_CRATES: &[&str] = &[
    "holdfast",
    "holdfast-api",
    "holdfast-guard",
    "holdfast-service",
    "holdfast-store",
];

const DURATION_CONSTRUCTORS: &[&str] = &[
    "from_secs",
    "from_millis",
    "from_micros",
    "from_nanos",
    "from_secs_f32",
    "from_secs_f64",
    "new",
];

const NUMERIC_TYPES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64",
];

/// Fields and arguments whose name says they hold a bound.
fn names_a_bound(name: &str) -> bool {
    name == "limit"
        || [
            "_max", "_min", "_ms", "_s", "_secs", "_bytes", "_timeout", "_chars", "_px",
        ]
        .iter()
        .any(|unit| name.ends_with(unit))
}

/// What the `bounds` rule finds in one file (non-test code only):
/// - `Duration::from_millis(20)` and the other constructors, with a number;
/// - size arithmetic: `* 1024`;
/// - `max-age=86400` in a string;
/// - a numeric `const`/`static` whose value is written out (`const X: u64 = 10;`);
/// - a length compared with a number (`s.len() > 512`, `(2..=10).contains(&s.len())`);
/// - a floor, cap or default of a value (`.max(100)`, `.min(16)`, `.clamp(1, 100)`,
///   `.unwrap_or(20)`);
/// - a bound-named field or flag set to a number (`limit: Some(20)`, `default_value_t = 1000`);
/// - a bound stated in a message (`"must be 1 to 200 characters"`).
///
/// 0 and 1 are never bounds (nothing and one); a `// fact:` comment exempts a line.
fn bounds_in(file: &SourceFile) -> Vec<Finding> {
    let mut found = Vec::new();
    let toks: Vec<&Tok> = file.tokens.iter().filter(|t| !t.in_test).collect();
    let is = |i: usize, text: &str| {
        toks.get(i)
            .is_some_and(|t| t.text == text && t.kind != Kind::Str)
    };
    let num = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == Kind::Num)
            .map(|t| t.text.clone())
    };
    let mut push = |line: usize, what: String| {
        if !file.has_fact(line) {
            found.push(file.finding("bounds", line, what));
        }
    };
    for i in 0..toks.len() {
        let t = toks[i];
        // Duration::from_millis(20)
        if t.text == "Duration" && is(i + 1, ":") && is(i + 2, ":") && is(i + 4, "(") {
            if let (Some(ctor), Some(n)) = (toks.get(i + 3), num(i + 5)) {
                if DURATION_CONSTRUCTORS.contains(&ctor.text.as_str()) && !is_zero(&n) {
                    push(t.line, format!("`Duration::{}({n})`", ctor.text));
                }
            }
        }
        // 64 * 1024
        if t.kind == Kind::Num
            && integer(&t.text) == Some(1024)
            && (is(i + 1, "*") || (i > 0 && is(i - 1, "*")))
        {
            push(t.line, "size arithmetic `* 1024`".into());
        }
        // "public, max-age=86400"
        if t.kind == Kind::Str {
            if let Some(at) = t.text.find("max-age=") {
                if t.text[at + 8..].starts_with(|c: char| c.is_ascii_digit()) {
                    push(
                        t.line,
                        format!("a cache lifetime in a string: {:?}", first_chars(&t.text)),
                    );
                }
            }
        }
        // "must be 1 to 200 characters": a bound stated in a message goes
        // stale when the configured one changes.
        if t.kind == Kind::Str {
            if number_before_unit(&t.text).is_some() {
                push(
                    t.line,
                    format!("a bound written in a message: {:?}", first_chars(&t.text)),
                );
            }
        }
        // const X_MS: u64 = 100;
        if (t.text == "const" || t.text == "static") && t.kind == Kind::Ident && is(i + 2, ":") {
            let ty = toks.get(i + 3).map(|t| t.text.as_str()).unwrap_or("");
            if NUMERIC_TYPES.contains(&ty) && is(i + 4, "=") {
                let value: Vec<&Tok> = toks[i + 5..]
                    .iter()
                    .take_while(|t| t.text != ";")
                    .copied()
                    .collect();
                let written_out = value
                    .iter()
                    .any(|t| t.kind == Kind::Num && is_bound_number(&t.text))
                    && value.iter().all(|t| {
                        t.kind == Kind::Num
                            || (t.kind == Kind::Punct && "+-*/()<>".contains(t.text.as_str()))
                            || (t.kind == Kind::Ident && is_constant_name(&t.text))
                    });
                if written_out {
                    push(t.line, format!("a numeric constant `{}`", toks[i + 1].text));
                }
            }
        }
        // s.len() > 512, s.chars().count() <= 10
        if (t.text == "len" || t.text == "count") && is(i + 1, "(") && is(i + 2, ")") {
            let (op, at) = if (is(i + 3, "<") || is(i + 3, ">")) && is(i + 4, "=") {
                (format!("{}=", toks[i + 3].text), i + 5)
            } else if is(i + 3, "<") || is(i + 3, ">") {
                (toks[i + 3].text.clone(), i + 4)
            } else {
                (String::new(), 0)
            };
            if !op.is_empty() {
                if let Some(n) = num(at).filter(|n| is_bound_number(n)) {
                    push(
                        t.line,
                        format!("a length compared with a number: `{}() {op} {n}`", t.text),
                    );
                }
            }
        }
        // (43..=128).contains(&v.len())
        if t.text == "(" && num(i + 1).is_some() && is(i + 2, ".") && is(i + 3, ".") {
            let hi_at = if is(i + 4, "=") { i + 5 } else { i + 4 };
            if let (Some(lo), Some(hi)) = (num(i + 1), num(hi_at)) {
                if is(hi_at + 1, ")") && is(hi_at + 2, ".") && is(hi_at + 3, "contains") {
                    let close = matching(&toks, hi_at + 4);
                    let arg_end = close.unwrap_or(hi_at + 4);
                    let measures = arg_end >= 3
                        && (is(arg_end - 3, "len") || is(arg_end - 3, "count"))
                        && is(arg_end - 2, "(")
                        && is(arg_end - 1, ")");
                    if measures && (is_bound_number(&lo) || is_bound_number(&hi)) {
                        push(
                            t.line,
                            format!("a length checked against a range: `{lo}..{hi}`"),
                        );
                    }
                }
            }
        }
        // .max(100), .min(16), .clamp(1, 100)
        if i > 0 && is(i - 1, ".") && is(i + 1, "(") {
            if ["max", "min", "unwrap_or"].contains(&t.text.as_str()) && is(i + 3, ")") {
                if let Some(n) = num(i + 2).filter(|n| is_bound_number(n)) {
                    push(
                        t.line,
                        format!("a floor, cap or default: `.{}({n})`", t.text),
                    );
                }
            }
            if t.text == "clamp" && is(i + 3, ",") && is(i + 5, ")") {
                if let (Some(a), Some(b)) = (num(i + 2), num(i + 4)) {
                    if is_bound_number(&a) || is_bound_number(&b) {
                        push(t.line, format!("a clamp: `.clamp({a}, {b})`"));
                    }
                }
            }
        }
        // limit: Some(20), timeout_ms: 500, default_value_t = 1000
        if t.kind == Kind::Ident
            && (is(i + 1, ":") && !is(i + 2, ":") || t.text == "default_value_t" && is(i + 1, "="))
        {
            let named = names_a_bound(&t.text) || t.text == "default_value_t";
            let at = if is(i + 2, "Some") && is(i + 3, "(") {
                i + 4
            } else {
                i + 2
            };
            if named {
                if let Some(n) = num(at).filter(|n| is_bound_number(n)) {
                    push(t.line, format!("`{}` set to {n}", t.text));
                }
            }
        }
    }
    found
}

/// A number (2 or more) right before a unit word: `200 characters`, `4 KiB`.
fn number_before_unit(s: &str) -> Option<u64> {
    const UNITS: &[&str] = &[
        "character",
        "characters",
        "byte",
        "bytes",
        "KiB",
        "MiB",
        "ids",
        "items",
        "second",
        "seconds",
        "minutes",
        "hours",
        "days",
        "ms",
    ];
    let words: Vec<&str> = s.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        let n: u64 = w[0].trim_start_matches('(').parse().ok()?;
        let unit = w[1].trim_end_matches(|c: char| !c.is_alphanumeric());
        (n >= 2 && UNITS.contains(&unit)).then_some(n)
    })
}

#[test]
fn every_bound_is_in_limits() {
    let mut found = Vec::new();
    for file in sources() {
        if BOUND_CRATES.contains(&file.krate.as_str()) {
            found.extend(bounds_in(&file));
        }
    }
    report(
        "bounds",
        found,
        "add a field to `Limits` (crates/holdfast-config/src/lib.rs, unit last in its name) and read it from there; if the number is a fact of a protocol or format, not a tunable, say so in a `// fact: <why>` comment on that line or right above it",
    );
}

// ---------------------------------------------------------------------------
// Rule: user text reaches HTML only through text::escape
// ---------------------------------------------------------------------------

const FORMAT_MACROS: &[&str] = &["format", "format_args", "write", "writeln"];

/// Whether a template holds an HTML tag (`<p`, `</a`, `<!doctype`), not a
/// `Link` header's `<https://…>`.
fn has_html_tag(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != b'<' {
            return false;
        }
        let rest = &b[i + 1..];
        let rest = rest.strip_prefix(b"/").unwrap_or(rest);
        if rest.starts_with(b"!") {
            return true;
        }
        let name_len = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        name_len > 0
            && rest[0].is_ascii_alphabetic()
            && rest
                .get(name_len)
                .is_some_and(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/')
    })
}

/// What fills a placeholder is safe in HTML when it is a literal, a
/// constant, a call of `escape`, or a fragment named `html`/`*_html`
/// (built from escaped parts: by naming it so, its author says so).
fn safe_in_html(expr: &[&Tok]) -> bool {
    let expr: Vec<&Tok> = expr
        .iter()
        .copied()
        .skip_while(|t| t.text == "&" || t.text == "*")
        .collect();
    if expr.len() == 1 && matches!(expr[0].kind, Kind::Num | Kind::Str) {
        return true;
    }
    safe_name(&last_name(&expr))
}

fn safe_name(name: &str) -> bool {
    name == "escape" || name == "html" || name.ends_with("_html") || is_constant_name(name)
}

/// The name that decides what an expression is: the last function or method
/// called (`escape` in `escape(x)`, `replace` in `escape(x).replace(..)`), or
/// the last field or variable (`content` in `s.content`).
fn last_name(expr: &[&Tok]) -> String {
    let mut end = expr.len();
    while end > 0 && (expr[end - 1].text == "?" && expr[end - 1].kind == Kind::Punct) {
        end -= 1;
    }
    if end > 0 && expr[end - 1].text == ")" && expr[end - 1].kind == Kind::Punct {
        // Back to the matching `(`.
        let mut depth = 0;
        let mut i = end;
        while i > 0 {
            i -= 1;
            match (expr[i].kind, expr[i].text.as_str()) {
                (Kind::Punct, ")") => depth += 1,
                (Kind::Punct, "(") => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        end = i;
    }
    if end > 0 && expr[end - 1].kind == Kind::Ident {
        return expr[end - 1].text.clone();
    }
    String::new()
}

/// The one file where HTML made elsewhere may enter a maud template as it is
/// (`PreEscaped`), each use saying why it is safe. maud escapes everything else.
const TRUSTED_HTML: &str = "crates/holdfast-api/src/web/trusted.rs";

/// maud's ways around its own escaping: `PreEscaped(..)`, and a `Render`
/// impl that writes into the page's buffer itself (`render_to`).
const UNESCAPED_MAUD: &[&str] = &["PreEscaped", "render_to"];

fn html_in(file: &SourceFile) -> Vec<Finding> {
    let mut found = Vec::new();
    let toks: Vec<&Tok> = file.tokens.iter().filter(|t| !t.in_test).collect();
    for i in 0..toks.len() {
        let t = toks[i];
        if t.kind != Kind::Ident {
            continue;
        }
        if UNESCAPED_MAUD.contains(&t.text.as_str()) && file.path != TRUSTED_HTML {
            found.push(file.finding(
                "html",
                t.line,
                format!(
                    "`{}` outside {TRUSTED_HTML}: maud would not escape it",
                    t.text
                ),
            ));
            continue;
        }
        // Html(body)
        if t.text == "Html" && toks.get(i + 1).is_some_and(|t| t.text == "(") {
            if let Some(close) = matching(&toks, i + 1) {
                let arg = &toks[i + 2..close];
                let is_format = arg
                    .first()
                    .is_some_and(|t| FORMAT_MACROS.contains(&t.text.as_str()))
                    && arg.get(1).is_some_and(|t| t.text == "!");
                if !is_format && !safe_in_html(arg) {
                    found.push(file.finding(
                        "html",
                        t.line,
                        format!("`Html({})` is not known to be escaped", show(arg)),
                    ));
                }
            }
            continue;
        }
        let is_macro = FORMAT_MACROS.contains(&t.text.as_str())
            && toks.get(i + 1).is_some_and(|t| t.text == "!")
            && toks.get(i + 2).is_some_and(|t| t.text == "(");
        if !is_macro {
            continue;
        }
        let Some(close) = matching(&toks, i + 2) else {
            continue;
        };
        let args = split_args(&toks[i + 3..close]);
        let Some(template_at) = args
            .iter()
            .position(|a| a.len() == 1 && a[0].kind == Kind::Str)
        else {
            continue;
        };
        let template = &args[template_at][0].text;
        if !has_html_tag(template) {
            continue;
        }
        let mut positional = Vec::new();
        let mut named = Vec::new();
        for a in &args[template_at + 1..] {
            if a.len() > 2 && a[0].kind == Kind::Ident && a[1].text == "=" && a[2].text != "=" {
                named.push((a[0].text.clone(), &a[2..]));
            } else {
                positional.push(&a[..]);
            }
        }
        let mut next = 0;
        for holder in placeholders(template) {
            let (shown, safe) = match holder.parse::<usize>() {
                _ if holder.is_empty() => {
                    next += 1;
                    match positional.get(next - 1) {
                        Some(e) => (show(e), safe_in_html(e)),
                        None => continue,
                    }
                }
                Ok(n) => match positional.get(n) {
                    Some(e) => (show(e), safe_in_html(e)),
                    None => continue,
                },
                Err(_) => match named.iter().find(|(n, _)| *n == holder) {
                    Some((_, e)) => (format!("{holder} = {}", show(e)), safe_in_html(e)),
                    // `{name}` captures a variable of that name.
                    None => (holder.clone(), safe_name(&holder)),
                },
            };
            if !safe {
                found.push(file.finding(
                    "html",
                    t.line,
                    format!("`{shown}` is put into HTML (`{}!`) unescaped", t.text),
                ));
            }
        }
    }
    found
}

/// The argument names of a format string's placeholders (`""` for `{}`).
fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => {
                let inner: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let name = inner.split(':').next().unwrap_or("").trim().to_owned();
                out.push(name);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn user_text_reaches_html_only_escaped() {
    let mut found = Vec::new();
    for file in sources() {
        if SERVER_CRATES.contains(&file.krate.as_str()) {
            found.extend(html_in(&file));
        }
    }
    report(
        "html",
        found,
        "build pages with maud's `html!` (it escapes every value); HTML made elsewhere (status content rendered at posting) enters only through a function of web/trusted.rs that says why it is safe; in a `format!`, wrap the value in `holdfast_service::text::escape(..)`, or if it is HTML built from escaped parts, name it `*_html` so the next reader knows",
    );
}

// ---------------------------------------------------------------------------
// Rule: handlers share helpers through routes/helpers.rs, not the router file
// ---------------------------------------------------------------------------

#[test]
fn handlers_do_not_import_from_the_router_file() {
    let mut found = Vec::new();
    for file in sources() {
        let in_routes = file.path.starts_with("crates/holdfast-api/src/routes/")
            && !file.path.ends_with("/routes/mod.rs")
            && !file.path.ends_with("/routes/helpers.rs");
        if !in_routes {
            continue;
        }
        let toks: Vec<&Tok> = file.tokens.iter().filter(|t| !t.in_test).collect();
        for (i, t) in toks.iter().enumerate() {
            // `super::x` or `crate::routes::x`, where x is not `helpers`
            let via = if t.text == "super" {
                Some(i + 3)
            } else if t.text == "crate" && toks.get(i + 3).is_some_and(|t| t.text == "routes") {
                Some(i + 6)
            } else {
                None
            };
            let Some(at) = via else { continue };
            let path_sep = toks.get(at - 2).is_some_and(|t| t.text == ":")
                && toks.get(at - 1).is_some_and(|t| t.text == ":");
            let target = toks.get(at).map(|t| t.text.as_str()).unwrap_or("");
            if path_sep && target != "helpers" && t.kind == Kind::Ident {
                found.push(file.finding(
                    "routes",
                    t.line,
                    format!(
                        "a handler reaches into the router file or another handler: `{}::{target}`",
                        t.text
                    ),
                ));
            }
        }
    }
    report(
        "routes",
        found,
        "routes/mod.rs only lists routes: move what handlers share into routes/helpers.rs and import it from there",
    );
}

// ---------------------------------------------------------------------------
// The map names every rule, and every crate uses what it depends on
// ---------------------------------------------------------------------------

#[test]
fn architecture_names_every_rule_and_its_test() {
    let this = std::fs::read_to_string(root().join("crates/holdfast-tidy/tests/tidy.rs"))
        .expect("this file");
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let rules: Vec<&str> = this
        .split("#[test]\nfn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| !name.starts_with("the_rules_"))
        .collect();
    assert!(rules.len() >= 6, "the rules were not found: {rules:?}");
    let missing: Vec<&&str> = rules
        .iter()
        .filter(|r| !map.contains(&format!("`{r}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md (Invariants) must name each rule's test: {missing:?}"
    );
}

#[test]
fn every_dependency_is_used() {
    let mut found = Vec::new();
    let files = sources();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let dir = entry.expect("a directory entry").path();
        let krate = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let manifest = format!("crates/{krate}/Cargo.toml");
        let Ok(text) = std::fs::read_to_string(root().join(&manifest)) else {
            continue;
        };
        let idents: HashSet<&str> = files
            .iter()
            .filter(|f| f.krate == krate)
            .flat_map(|f| f.tokens.iter())
            .filter(|t| t.kind == Kind::Ident)
            .map(|t| t.text.as_str())
            .collect();
        let mut section = "";
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line;
                continue;
            }
            if !(section == "[dependencies]" || section == "[dev-dependencies]") {
                continue;
            }
            let Some(name) = line
                .split(['=', '.', ' '])
                .next()
                .filter(|n| !n.is_empty() && !n.starts_with('#'))
            else {
                continue;
            };
            if !idents.contains(name.replace('-', "_").as_str()) {
                found.push(Finding {
                    rule: "deps",
                    at: format!("{manifest}:{}", i + 1),
                    what: format!("`{name}` is never named in the crate's code"),
                });
            }
        }
    }
    report(
        "deps",
        found,
        "remove the dependency from the crate's Cargo.toml (a lean tree builds faster and has less to audit)",
    );
}

// ---------------------------------------------------------------------------
// The rules bite: each one on a deliberate violation
// ---------------------------------------------------------------------------

fn in_memory(path: &str, text: &str) -> SourceFile {
    SourceFile::new(path.into(), text)
}

#[test]
fn the_rules_catch_what_they_should_and_nothing_else() {
    let bad = in_memory(
        "crates/holdfast-api/src/x.rs",
        r##"
const PAUSE_MS: u64 = 100;
fn f(s: &str, name: &str, content: &str) {
    sleep(Duration::from_millis(20));
    let n = 64 * 1024;
    let h = "public, max-age=86400";
    if s.len() > 512 || s.chars().count() <= 10 || !(2..=10).contains(&s.len()) {}
    let x = y.max(100).unwrap_or(40);
    let p = Page { limit: Some(20) };
    let page = format!("<p>{}</p><b>{content}</b>{body_html}", name);
    let t = Html(name.to_owned());
    let m = html! { p { (maud::PreEscaped(name)) } };
    let e = Err("Idempotency-Key must be 1 to 200 characters");
}
"##,
    );
    let bounds: Vec<String> = bounds_in(&bad).into_iter().map(|f| f.what).collect();
    assert_eq!(bounds.len(), 11, "{bounds:#?}");
    let html: Vec<String> = html_in(&bad).into_iter().map(|f| f.what).collect();
    assert_eq!(html.len(), 4, "{html:#?}");
    let trusted = in_memory(
        TRUSTED_HTML,
        "pub fn c(s: &str) -> PreEscaped<&str> { PreEscaped(s) }",
    );
    assert!(html_in(&trusted).is_empty());

    let good = in_memory(
        "crates/holdfast-api/src/x.rs",
        r##"
// fact: PKCE verifiers are 43 to 128 characters (RFC 7636)
const VERIFIER_MAX_CHARS: usize = 128;
fn f(s: &str, n: usize) {
    sleep(Duration::from_millis(limits.pause_ms));
    let w = Duration::ZERO.max(Duration::from_secs(0));
    if s.len() > 1 || n.max(1) > 0 {}
    let link = format!("<{}>; rel=\"next\"", url); // a Link header, not HTML
    let page = format!("<p>{}</p>{body_html}{STYLE}", escape(s));
    let t = Html(page_html);
    // SELECT * FROM comments is not code
}
#[cfg(test)]
mod tests {
    fn t() { sleep(Duration::from_millis(20)); let x = format!("<p>{}</p>", raw); }
}
"##,
    );
    assert!(
        bounds_in(&good).is_empty(),
        "{:#?}",
        bounds_in(&good).iter().map(|f| &f.what).collect::<Vec<_>>()
    );
    assert!(
        html_in(&good).is_empty(),
        "{:#?}",
        html_in(&good).iter().map(|f| &f.what).collect::<Vec<_>>()
    );
    assert!(looks_like_sql("SELECT id FROM statuses WHERE id = ?1"));
    assert!(looks_like_sql("CREATE DATABASE holdfast"));
    assert!(!looks_like_sql("Select the account you want to update"));
    for decision in GUARD_DECISIONS {
        assert!(
            root().join(decision).exists(),
            "{decision} is gone: update GUARD_DECISIONS"
        );
    }
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

struct Finding {
    rule: &'static str,
    at: String,
    what: String,
}

fn report(rule: &str, found: Vec<Finding>, fix: &str) {
    let pending: HashSet<&str> = PENDING
        .iter()
        .filter(|(r, _)| *r == rule)
        .map(|(_, f)| *f)
        .collect();
    let exempt: HashSet<&str> = EXEMPT
        .iter()
        .filter(|(r, _, _)| *r == rule)
        .map(|(_, f, _)| *f)
        .collect();
    let file_of = |f: &Finding| {
        f.at.rsplit_once(':')
            .map_or(f.at.clone(), |(p, _)| p.to_owned())
    };
    let mut still_pending = HashSet::new();
    let mut lines = Vec::new();
    for f in &found {
        let file = file_of(f);
        if exempt.contains(file.as_str()) {
            continue;
        }
        if let Some(p) = pending.iter().find(|p| file.starts_with(**p)) {
            still_pending.insert(*p);
            continue;
        }
        let line = format!("{}: [{}] {}", f.at, f.rule, f.what);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    for p in &pending {
        if !still_pending.contains(*p) {
            lines.push(format!(
                "{p}: [{rule}] is clean now: remove it from PENDING in crates/holdfast-tidy/tests/tidy.rs"
            ));
        }
    }
    assert!(
        lines.is_empty(),
        "\n{}\n\nrule `{rule}` (ARCHITECTURE.md, Invariants): {fix}\n",
        lines.join("\n")
    );
}

fn first_chars(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

fn show(toks: &[&Tok]) -> String {
    let mut out = String::new();
    for (i, t) in toks.iter().enumerate() {
        let glue = i > 0
            && !(t.kind == Kind::Punct && ".,()?:&".contains(t.text.as_str()))
            && !(toks[i - 1].kind == Kind::Punct && ".(&:!".contains(toks[i - 1].text.as_str()));
        if glue {
            out.push(' ');
        }
        match t.kind {
            Kind::Str => out.push_str(&format!("{:?}", t.text)),
            _ => out.push_str(&t.text),
        }
    }
    first_chars(&out)
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

fn integer(text: &str) -> Option<u128> {
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    let digits = NUMERIC_TYPES
        .iter()
        .find_map(|ty| digits.strip_suffix(ty))
        .unwrap_or(&digits);
    if let Some(hex) = digits.strip_prefix("0x") {
        return u128::from_str_radix(hex, 16).ok();
    }
    digits.parse().ok()
}

fn value(text: &str) -> Option<f64> {
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    let digits = NUMERIC_TYPES
        .iter()
        .find_map(|ty| digits.strip_suffix(ty))
        .unwrap_or(&digits);
    integer(digits)
        .map(|v| v as f64)
        .or_else(|| digits.parse().ok())
}

fn is_zero(text: &str) -> bool {
    value(text) == Some(0.0)
}

/// 0 and 1 mean nothing and one, and a hexadecimal number is a bit pattern
/// or a key; anything else could be a bound.
fn is_bound_number(text: &str) -> bool {
    !text.starts_with("0x") && value(text).is_some_and(|v| v >= 2.0)
}

fn is_constant_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

// ---------------------------------------------------------------------------
// Reading the tree
// ---------------------------------------------------------------------------

/// The workspace; `HOLDFAST_TIDY_ROOT` points the rules at another checkout.
/// `cargo test` sets `CARGO_MANIFEST_DIR` when it runs this binary, and that
/// is read first: the path baked in at build time names the checkout the
/// binary was built in, which a `target/` copied to another worktree (and not
/// rebuilt, its sources being unchanged) would check instead of its own.
fn root() -> PathBuf {
    std::env::var_os("HOLDFAST_TIDY_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(|d| PathBuf::from(d).join("../..")))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Every `.rs` file under `crates/`, read and tokenized once for all the rules.
fn sources() -> &'static [SourceFile] {
    static SOURCES: std::sync::OnceLock<Vec<SourceFile>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(read_sources)
}

fn read_sources() -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect(&root().join("crates"), &mut paths);
    paths.sort();
    let root = root();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&p).expect("a readable source file");
            SourceFile::new(rel, &text)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n != "target" && n != "node_modules")
            {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

struct SourceFile {
    path: String,
    krate: String,
    tokens: Vec<Tok>,
    /// Lines with a `fact:` comment.
    facts: HashSet<usize>,
    /// Lines that hold nothing but comments.
    comment_only: HashSet<usize>,
}

impl SourceFile {
    fn new(path: String, text: &str) -> SourceFile {
        let krate = path
            .strip_prefix("crates/")
            .and_then(|p| p.split('/').next())
            .unwrap_or("")
            .to_owned();
        let (mut tokens, comments) = tokenize(text);
        let whole_file_is_test = path.contains("/tests/") || path.contains("/benches/");
        mark_tests(&mut tokens, whole_file_is_test);
        let code_lines: HashSet<usize> = tokens.iter().map(|t| t.line).collect();
        let facts = comments
            .iter()
            .filter(|(_, c)| c.contains("fact:"))
            .map(|(l, _)| *l)
            .collect();
        let comment_only = comments
            .iter()
            .map(|(l, _)| *l)
            .filter(|l| !code_lines.contains(l))
            .collect();
        SourceFile {
            path,
            krate,
            tokens,
            facts,
            comment_only,
        }
    }

    fn finding(&self, rule: &'static str, line: usize, what: String) -> Finding {
        Finding {
            rule,
            at: format!("{}:{line}", self.path),
            what,
        }
    }

    /// A `fact:` comment on the line or in the comment lines right above it.
    fn has_fact(&self, line: usize) -> bool {
        if self.facts.contains(&line) {
            return true;
        }
        let mut l = line;
        while l > 1 && self.comment_only.contains(&(l - 1)) {
            l -= 1;
            if self.facts.contains(&l) {
                return true;
            }
        }
        false
    }
}

/// Marks tokens of `#[cfg(test)]` items (modules, functions, impls) as test code.
fn mark_tests(tokens: &mut [Tok], all: bool) {
    if all {
        tokens.iter_mut().for_each(|t| t.in_test = true);
        return;
    }
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    let pattern = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut ranges = Vec::new();
    let mut i = 0;
    while i + pattern.len() <= texts.len() {
        if texts[i..i + pattern.len()] == pattern {
            // The item runs to its `;` or to the `}` matching its first `{`.
            let mut j = i + pattern.len();
            let mut depth = 0usize;
            let mut end = texts.len();
            while j < texts.len() {
                match texts[j] {
                    ";" if depth == 0 => {
                        end = j + 1;
                        break;
                    }
                    "{" => depth += 1,
                    "}" => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = j + 1;
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            ranges.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    for (from, to) in ranges {
        tokens[from..to].iter_mut().for_each(|t| t.in_test = true);
    }
}

/// The index of the bracket closing the one at `open`.
fn matching(toks: &[&Tok], open: usize) -> Option<usize> {
    let (o, c) = match toks.get(open)?.text.as_str() {
        "(" => ("(", ")"),
        "[" => ("[", "]"),
        "{" => ("{", "}"),
        _ => return None,
    };
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.kind != Kind::Punct {
            continue;
        }
        if t.text == o {
            depth += 1;
        } else if t.text == c {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits macro arguments at the commas outside brackets and closures' bars.
fn split_args<'a>(toks: &[&'a Tok]) -> Vec<Vec<&'a Tok>> {
    let mut args = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        if t.kind == Kind::Punct {
            match t.text.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                "," if depth == 0 => {
                    args.push(Vec::new());
                    continue;
                }
                _ => {}
            }
        }
        args.last_mut().expect("one argument at least").push(*t);
    }
    args.retain(|a| !a.is_empty());
    args
}

// ---------------------------------------------------------------------------
// A small Rust tokenizer: enough to tell code from strings and comments
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Num,
    /// The literal's body as written (escapes left as they are).
    Str,
    Char,
    Lifetime,
    Punct,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    text: String,
    line: usize,
    in_test: bool,
}

/// Tokens, and comments as (line, text).
fn tokenize(src: &str) -> (Vec<Tok>, Vec<(usize, String)>) {
    let c: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut comments = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let push = |toks: &mut Vec<Tok>, kind, text: String, line| {
        toks.push(Tok {
            kind,
            text,
            line,
            in_test: false,
        })
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            let start = i;
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            comments.push((line, c[start..i].iter().collect()));
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            let start_line = line;
            let start = i;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            let text: String = c[start..i].iter().collect();
            for (k, l) in text.lines().enumerate() {
                comments.push((start_line + k, l.to_owned()));
            }
        } else if let Some((prefix, hashes)) = raw_string_start(&c, i) {
            // r"…", r#"…"#, br"…"
            let start_line = line;
            i += prefix + hashes + 1;
            let body_start = i;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                    break;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            push(
                &mut toks,
                Kind::Str,
                c[body_start..i.min(c.len())].iter().collect(),
                start_line,
            );
            i += 1 + hashes;
        } else if ch == '"' || (ch == 'b' && at(i + 1) == '"') {
            let start_line = line;
            i += if ch == 'b' { 2 } else { 1 };
            let body_start = i;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            push(
                &mut toks,
                Kind::Str,
                c[body_start..i.min(c.len())].iter().collect(),
                start_line,
            );
            i += 1;
        } else if ch == '\'' || (ch == 'b' && at(i + 1) == '\'') {
            let start = i;
            i += if ch == 'b' { 2 } else { 1 };
            if at(i) == '\\' {
                // '\n', '\'', '\u{..}'
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                push(&mut toks, Kind::Char, c[start..i].iter().collect(), line);
            } else if at(i + 1) == '\'' {
                i += 2;
                push(&mut toks, Kind::Char, c[start..i].iter().collect(), line);
            } else {
                // A lifetime or a label: 'a, 'static
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                push(
                    &mut toks,
                    Kind::Lifetime,
                    c[start..i].iter().collect(),
                    line,
                );
            }
        } else if ch.is_ascii_digit() {
            let start = i;
            while i < c.len()
                && (c[i].is_ascii_alphanumeric()
                    || c[i] == '_'
                    || (c[i] == '.' && at(i + 1).is_ascii_digit()))
            {
                i += 1;
            }
            push(&mut toks, Kind::Num, c[start..i].iter().collect(), line);
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            if ch == 'r' && at(i + 1) == '#' {
                i += 2; // r#type
            }
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let text: String = c[start..i].iter().collect();
            push(
                &mut toks,
                Kind::Ident,
                text.trim_start_matches("r#").to_owned(),
                line,
            );
        } else {
            push(&mut toks, Kind::Punct, ch.to_string(), line);
            i += 1;
        }
    }
    (toks, comments)
}

/// `r"`, `r#"`, `br"`, `br#"` at `i`: (prefix length, number of `#`).
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let prefix = if c.get(i) == Some(&'r') {
        1
    } else if c.get(i) == Some(&'b') && c.get(i + 1) == Some(&'r') {
        2
    } else {
        return None;
    };
    if i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_') {
        return None;
    }
    let hashes = c[i + prefix..].iter().take_while(|ch| **ch == '#').count();
    (c.get(i + prefix + hashes) == Some(&'"')).then_some((prefix, hashes))
}
