//! Status text: from what a person typed to safe HTML, the Mastodon way.
//!
//! The text is split into segments (plain text, URLs, @mentions, #hashtags);
//! the same segments give the length (a URL counts as a fixed number of
//! characters, a mention as its local part) and the HTML. Every byte of user
//! text passes through [`escape`] before it reaches HTML; nothing else does.

/// One piece of a status' text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Url(&'a str),
    /// `@name` or `@name@domain`: the name, and the domain if one was given.
    Mention {
        raw: &'a str,
        username: &'a str,
        domain: Option<&'a str>,
    },
    /// `#tag`: the tag without `#`.
    Tag {
        raw: &'a str,
        name: &'a str,
    },
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// URLs end before whitespace, and trailing punctuation is not part of them.
fn url_len(s: &str) -> usize {
    let end = s
        .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .unwrap_or(s.len());
    s[..end]
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', ']'])
        .len()
}

fn starts_url(s: &str) -> Option<usize> {
    let scheme = if s.starts_with("https://") {
        8
    } else if s.starts_with("http://") {
        7
    } else {
        return None;
    };
    let len = url_len(s);
    (len > scheme).then_some(len)
}

/// Splits text into segments. A mention or hashtag must start the text or
/// follow a character that is not part of a word (so `a@b.c` is no mention).
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    let mut prev: Option<char> = None;
    while i < text.len() {
        let rest = &text[i..];
        let ch = rest
            .chars()
            .next()
            .expect("i is on a char boundary below len");
        let at_word_start = prev
            .is_none_or(|p| !(p.is_alphanumeric() || p == '_' || p == '/' || p == '@' || p == '#'));
        let found: Option<(usize, Segment<'_>)> = if ch == 'h' && at_word_start {
            starts_url(rest).map(|len| (len, Segment::Url(&rest[..len])))
        } else if ch == '@' && at_word_start {
            let name_len = rest[1..]
                .find(|c: char| !is_name_char(c))
                .unwrap_or(rest.len() - 1);
            if name_len == 0 {
                None
            } else {
                let username = &rest[1..1 + name_len];
                let after = &rest[1 + name_len..];
                // Optional @domain: letters, digits, dots and dashes, not ending in a dot.
                let domain = after.strip_prefix('@').and_then(|d| {
                    let len = d
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                        .unwrap_or(d.len());
                    let dom = d[..len].trim_end_matches('.');
                    (!dom.is_empty() && dom.contains('.') || dom == "localhost").then_some(dom)
                });
                let raw_len = 1 + name_len + domain.map_or(0, |d| 1 + d.len());
                Some((
                    raw_len,
                    Segment::Mention {
                        raw: &rest[..raw_len],
                        username,
                        domain,
                    },
                ))
            }
        } else if ch == '#' && at_word_start {
            let len = rest[1..]
                .find(|c: char| !is_tag_char(c))
                .unwrap_or(rest.len() - 1);
            let name = &rest[1..1 + len];
            // `#1` is a number, not a tag: Mastodon wants at least one non-digit.
            (len > 0 && !name.chars().all(|c| c.is_ascii_digit())).then(|| {
                (
                    1 + len,
                    Segment::Tag {
                        raw: &rest[..1 + len],
                        name,
                    },
                )
            })
        } else {
            None
        };
        match found {
            Some((len, seg)) => {
                if plain_start < i {
                    out.push(Segment::Text(&text[plain_start..i]));
                }
                out.push(seg);
                i += len;
                plain_start = i;
                prev = text[..i].chars().next_back();
            }
            None => {
                i += ch.len_utf8();
                prev = Some(ch);
            }
        }
        debug_assert!(i <= bytes.len());
    }
    if plain_start < text.len() {
        out.push(Segment::Text(&text[plain_start..]));
    }
    out
}

/// Length the Mastodon way: every URL counts `url_chars`, a mention of a
/// remote account counts only its `@name` part, everything else by characters.
pub fn mastodon_length(text: &str, url_chars: usize) -> usize {
    segments(text)
        .iter()
        .map(|s| match s {
            Segment::Text(t) => t.chars().count(),
            Segment::Url(_) => url_chars,
            Segment::Mention { username, .. } => 1 + username.chars().count(),
            Segment::Tag { raw, .. } => raw.chars().count(),
        })
        .sum()
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// How a mention resolved: to a local account (linked) or not (left as text).
pub struct ResolvedMention {
    pub username: String,
    pub url: String,
}

/// Renders segments to HTML: paragraphs on blank lines, `<br />` on single
/// newlines, links for URLs, resolved mentions and hashtags.
/// `resolve(username, domain)` says whether a mention names a local account.
pub fn render_html(
    text: &str,
    base_url: &str,
    resolve: &dyn Fn(&str, Option<&str>) -> Option<ResolvedMention>,
) -> String {
    let mut html = String::from("<p>");
    for seg in segments(text.trim()) {
        match seg {
            Segment::Text(t) => {
                let normalized = t.replace("\r\n", "\n");
                let mut paragraphs = normalized.split("\n\n").peekable();
                while let Some(p) = paragraphs.next() {
                    html += &escape(p).replace('\n', "<br />");
                    if paragraphs.peek().is_some() {
                        html += "</p><p>";
                    }
                }
            }
            Segment::Url(u) => {
                let url_html = escape(u);
                html += &format!(
                    r#"<a href="{url_html}" target="_blank" rel="nofollow noopener noreferrer" translate="no">{url_html}</a>"#
                );
            }
            Segment::Mention {
                raw,
                username,
                domain,
            } => match resolve(username, domain) {
                Some(m) => {
                    html += &format!(
                        r#"<span class="h-card" translate="no"><a href="{}" class="u-url mention">@<span>{}</span></a></span>"#,
                        escape(&m.url),
                        escape(&m.username)
                    );
                }
                None => html += &escape(raw),
            },
            Segment::Tag { name, .. } => {
                html += &format!(
                    r#"<a href="{}/tags/{}" class="mention hashtag" rel="tag">#<span>{}</span></a>"#,
                    escape(base_url),
                    escape(&name.to_lowercase()),
                    escape(name)
                );
            }
        }
    }
    html += "</p>";
    html
}

/// Distinct hashtags, lower-cased, in order of first use.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for seg in segments(text) {
        if let Segment::Tag { name, .. } = seg {
            let lower = name.to_lowercase();
            if !tags.contains(&lower) {
                tags.push(lower);
            }
        }
    }
    tags
}

/// Mentioned (username, domain) pairs in order of first use, duplicates removed.
pub fn mentions(text: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for seg in segments(text) {
        if let Segment::Mention {
            username, domain, ..
        } = seg
        {
            let key = (username.to_lowercase(), domain.map(str::to_lowercase));
            if !out.contains(&key) {
                out.push(key);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_one(_: &str, _: Option<&str>) -> Option<ResolvedMention> {
        None
    }

    #[test]
    fn script_tags_are_escaped() {
        let html = render_html("<script>alert('x')</script> & \"q\"", "https://h", &no_one);
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>"
        );
    }

    #[test]
    fn urls_count_23_and_are_linked_without_trailing_punctuation() {
        let text = "see https://example.com/a/very/long/path/that/goes/on/and/on?x=1.";
        assert_eq!(mastodon_length(text, 23), 4 + 23 + 1);
        let html = render_html(text, "https://h", &no_one);
        assert!(
            html.contains(
                r#"<a href="https://example.com/a/very/long/path/that/goes/on/and/on?x=1""#
            ),
            "{html}"
        );
        assert!(html.ends_with("</a>.</p>"), "{html}");
    }

    #[test]
    fn url_with_quotes_cannot_break_out_of_the_attribute() {
        let html = render_html("http://x.y/\"onmouseover=alert(1)", "https://h", &no_one);
        assert!(!html.contains("\"onmouseover"), "{html}");
    }

    #[test]
    fn mentions_and_tags_are_found_only_at_word_starts() {
        assert_eq!(
            mentions("hi @Alice and @bob@localhost, mail a@b.c"),
            vec![
                ("alice".to_string(), None),
                ("bob".to_string(), Some("localhost".to_string()))
            ]
        );
        assert_eq!(
            hashtags("#Rust #rust x#no #123 #ok_1"),
            vec!["rust".to_string(), "ok_1".to_string()]
        );
    }

    #[test]
    fn remote_mentions_count_only_their_local_part() {
        assert_eq!(mastodon_length("@someone@example.social", 23), 8);
    }

    #[test]
    fn resolved_mentions_and_tags_become_links() {
        let resolve = |u: &str, _: Option<&str>| {
            (u == "alice").then(|| ResolvedMention {
                username: "alice".into(),
                url: "https://h/@alice".into(),
            })
        };
        let html = render_html("@alice #Fun\n\nbye", "https://h", &resolve);
        assert_eq!(
            html,
            "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://h/@alice\" class=\"u-url mention\">@<span>alice</span></a></span> \
             <a href=\"https://h/tags/fun\" class=\"mention hashtag\" rel=\"tag\">#<span>Fun</span></a></p><p>bye</p>"
        );
    }

    #[test]
    fn multibyte_text_is_counted_by_characters() {
        assert_eq!(mastodon_length("héllo wörld 🎉", 23), 13);
        assert_eq!(
            segments("日本語 #日本"),
            vec![
                Segment::Text("日本語 "),
                Segment::Tag {
                    raw: "#日本",
                    name: "日本"
                }
            ]
        );
    }
}
