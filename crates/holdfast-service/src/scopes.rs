//! OAuth scopes, Mastodon's set: `read`, `write`, `follow`, `push`,
//! `profile`, and sub-scopes like `read:statuses`. A granted top-level
//! scope covers its sub-scopes; the legacy `follow` covers the block,
//! follow and mute sub-scopes of both `read` and `write`.

const TOP: &[&str] = &["read", "write", "follow", "push", "profile"];
const READ_SUB: &[&str] = &[
    "accounts",
    "blocks",
    "bookmarks",
    "collections",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
];
const WRITE_SUB: &[&str] = &[
    "accounts",
    "blocks",
    "bookmarks",
    "collections",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
];
/// `admin:read:*` and `admin:write:*` (Mastodon's list). Only moderators and
/// admins may be granted any `admin:` scope, and the admin API checks the
/// role again on every call.
const ADMIN_SUB: &[&str] = &[
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
];
const FOLLOW_COVERS: &[&str] = &[
    "read:blocks",
    "write:blocks",
    "read:follows",
    "write:follows",
    "read:mutes",
    "write:mutes",
];

pub const DEFAULT: &str = "read";

/// Every scope holdfast knows, in the order Mastodon lists them
/// (`scopes_supported` of the authorization server metadata).
pub fn all() -> Vec<String> {
    let mut out = vec!["read".to_owned(), "write".to_owned()];
    out.extend(WRITE_SUB.iter().map(|s| format!("write:{s}")));
    out.extend(READ_SUB.iter().map(|s| format!("read:{s}")));
    out.extend(["follow", "push", "profile"].map(str::to_owned));
    for kind in ["read", "write"] {
        out.push(format!("admin:{kind}"));
        out.extend(ADMIN_SUB.iter().map(|s| format!("admin:{kind}:{s}")));
    }
    debug_assert!(out.iter().all(|s| is_known(s)));
    out
}

pub fn is_known(scope: &str) -> bool {
    if TOP.contains(&scope) {
        return true;
    }
    if let Some(rest) = scope.strip_prefix("admin:") {
        return match rest.split_once(':') {
            None => rest == "read" || rest == "write",
            Some(("read" | "write", sub)) => ADMIN_SUB.contains(&sub),
            Some(_) => false,
        };
    }
    match scope.split_once(':') {
        Some(("read", sub)) => READ_SUB.contains(&sub),
        Some(("write", sub)) => WRITE_SUB.contains(&sub),
        _ => false,
    }
}

/// A parsed, validated, de-duplicated scope list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-separated list (Mastodon splits on spaces only, so
    /// `read,write` is one unknown scope); an empty list means the default `read`.
    /// Returns the first unknown scope as the error.
    pub fn parse(s: &str) -> Result<Scopes, String> {
        let mut out: Vec<String> = Vec::new();
        for scope in s.split_whitespace() {
            if !is_known(scope) {
                return Err(scope.to_owned());
            }
            if !out.iter().any(|x| x == scope) {
                out.push(scope.to_owned());
            }
        }
        if out.is_empty() {
            out.push(DEFAULT.to_owned());
        }
        Ok(Scopes(out))
    }

    /// Does this grant cover `required` (e.g. `write:statuses`)?
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|granted| {
            granted == required
                || required.strip_prefix(granted.as_str()).is_some_and(|rest| rest.starts_with(':'))
                || (granted == "follow" && FOLLOW_COVERS.contains(&required))
                // `profile` is the narrowest read: it only sees who the user is.
                || (granted == "profile" && required == "profile")
        })
    }

    /// Is every scope in `self` allowed by `ceiling` (the app's registered scopes)?
    pub fn within(&self, ceiling: &Scopes) -> bool {
        self.0.iter().all(|s| ceiling.allows(s))
    }

    /// Does it name any `admin:` scope (which only staff may hold)?
    pub fn has_admin(&self) -> bool {
        self.0.iter().any(|s| s.starts_with("admin:"))
    }

    pub fn as_vec(&self) -> &[String] {
        &self.0
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_covers_sub_scopes_but_not_the_other_way() {
        let s = Scopes::parse("read write:statuses").unwrap();
        assert!(s.allows("read:notifications"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:favourites"));
        assert!(!s.allows("write"));
    }

    #[test]
    fn follow_covers_graph_scopes() {
        let s = Scopes::parse("follow").unwrap();
        assert!(s.allows("write:follows") && s.allows("read:blocks"));
        assert!(!s.allows("write:statuses"));
    }

    #[test]
    fn unknown_scopes_are_errors_and_empty_is_read() {
        assert_eq!(
            Scopes::parse("read admin:everything"),
            Err("admin:everything".into())
        );
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
        assert_eq!(
            Scopes::parse("read  write read").unwrap().to_string(),
            "read write"
        );
        assert!(Scopes::parse("read,write").is_err());
    }

    #[test]
    fn admin_scopes_cover_their_sub_scopes_and_nothing_else() {
        let s = Scopes::parse("admin:read admin:write:reports").unwrap();
        assert!(s.allows("admin:read:accounts") && s.allows("admin:write:reports"));
        assert!(!s.allows("admin:write:accounts") && !s.allows("read:accounts"));
        assert!(s.has_admin());
        assert!(!Scopes::parse("read write").unwrap().allows("admin:read"));
        assert!(!Scopes::parse("read write follow").unwrap().has_admin());
        assert!(Scopes::parse("admin:read:bogus").is_err() && Scopes::parse("admin").is_err());
        assert!(all().iter().all(|s| is_known(s)));
    }

    #[test]
    fn requested_scopes_must_fit_the_app() {
        let app = Scopes::parse("read write").unwrap();
        assert!(Scopes::parse("read:statuses write").unwrap().within(&app));
        assert!(!Scopes::parse("read follow").unwrap().within(&app));
    }
}
