//! Filters (`/api/v2/filters`, and v1's view of them): an account's keywords
//! and statuses that warn about, blur or hide matching statuses in the
//! contexts it names. Applied here, over the page the store fetched: a
//! `hide` match drops the status, `warn`/`blur` matches are set on the
//! bundle (`filtered`) for the API to render. The page's cursors come from
//! what was fetched, so a page thinned by hiding still links on correctly.
//!
//! Each account's active filters are compiled once and kept in a bounded
//! cache (`filter_cache_accounts_max`), dropped when the account changes a
//! filter on this node and re-read after `filter_cache_ttl_ms` (a change made
//! on another node).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use holdfast_store::ids::now_ms;
use holdfast_store::versioned::Generations;
use holdfast_store::{
    FilterAction, FilterBounds, FilterContext, FilterKeywordRow, FilterMatch, FilterRow,
    FilterStatusRow, FilterUpdate, Id, KeywordChange, NewFilter, NewKeyword, StatusBundle,
};

use crate::events::Event;
use crate::{Service, ServiceError, ServiceResult};

/// `expires_in` as a client sent it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExpiresIn {
    /// Empty or null: the filter never expires.
    Never,
    Seconds(i64),
}

/// One `keywords_attributes[]` entry, before checks.
#[derive(Clone, Debug, Default)]
pub struct KeywordFields {
    pub id: Option<Id>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    /// `_destroy`: remove the keyword `id` (or, without an id, add nothing).
    pub destroy: bool,
}

/// A filter's fields as a client sends them, before checks.
#[derive(Clone, Debug, Default)]
pub struct FilterFields {
    pub title: Option<String>,
    /// `context[]`; None when not given at all.
    pub contexts: Option<Vec<String>>,
    pub action: Option<String>,
    pub expires_in: Option<ExpiresIn>,
    pub keywords: Vec<KeywordFields>,
}

/// v1's filter: one keyword with its filter's settings.
#[derive(Clone, Debug)]
pub struct V1Filter {
    pub keyword: FilterKeywordRow,
    pub filter: FilterRow,
}

/// v1's fields (`phrase`, `context[]`, `irreversible`, `whole_word`, `expires_in`).
#[derive(Clone, Debug, Default)]
pub struct V1FilterFields {
    pub phrase: Option<String>,
    pub contexts: Option<Vec<String>>,
    pub irreversible: Option<bool>,
    pub whole_word: Option<bool>,
    pub expires_in: Option<ExpiresIn>,
}

/// One filter, ready to match: its keywords lowercased once.
struct Compiled {
    row: FilterRow,
    keywords: Vec<(String, String, bool)>,
}

/// An account's filters as compiled at `at`.
struct Entry {
    at: Instant,
    filters: Arc<Vec<Compiled>>,
}

/// Compiled filters per account, bounded (two generations, no scan).
pub struct FilterCache {
    entries: Mutex<Generations<Id, Entry>>,
    max: usize,
    ttl: Duration,
}

impl FilterCache {
    pub fn new(limits: &holdfast_config::Limits) -> FilterCache {
        FilterCache {
            entries: Mutex::new(Generations::new(limits.filter_cache_accounts_max)),
            max: limits.filter_cache_accounts_max,
            ttl: Duration::from_millis(limits.filter_cache_ttl_ms),
        }
    }

    fn get(&self, account: Id) -> Option<Arc<Vec<Compiled>>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&account)
            .filter(|e| e.at.elapsed() < self.ttl)
            .map(|e| e.filters.clone())
    }

    fn put(&self, account: Id, filters: Arc<Vec<Compiled>>) {
        if self.max == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(
            account,
            Entry {
                at: Instant::now(),
                filters,
            },
        );
    }

    pub fn forget(&self, account: Id) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&account);
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `keyword` occurs in `text` (both lowercased). With `whole_word`,
/// an occurrence counts only where it is not part of a longer word: a
/// keyword that starts (ends) with a word character must not be preceded
/// (followed) by one, as Mastodon's `\b` does.
pub fn keyword_matches(text: &str, keyword: &str, whole_word: bool) -> bool {
    if keyword.is_empty() {
        return false;
    }
    if !whole_word {
        return text.contains(keyword);
    }
    let check_start = keyword.chars().next().is_some_and(is_word_char);
    let check_end = keyword.chars().next_back().is_some_and(is_word_char);
    text.match_indices(keyword).any(|(at, _)| {
        let before_ok = !check_start || !text[..at].chars().next_back().is_some_and(is_word_char);
        let after_ok = !check_end
            || !text[at + keyword.len()..]
                .chars()
                .next()
                .is_some_and(is_word_char);
        before_ok && after_ok
    })
}

/// The text a filter's keywords are matched against: content warning,
/// source text and media descriptions, lowercased.
fn searchable_text(b: &StatusBundle) -> String {
    let s = &b.status;
    let mut text = format!("{}\n{}", s.spoiler_text, s.text);
    for m in &b.media {
        if let Some(d) = &m.description {
            text.push('\n');
            text.push_str(d);
        }
    }
    text.to_lowercase()
}

/// What the viewer's filters say about one status in one context.
enum Verdict {
    Hide,
    Show(Vec<FilterMatch>),
}

/// `context` None judges in every context at once and hides nothing: a
/// `hide` match is reported like the others (what Mastodon renders on a
/// status shown by itself, a favourite or a bookmark, where the app
/// decides per context).
fn judge(
    filters: &[Compiled],
    context: Option<FilterContext>,
    now: i64,
    b: &StatusBundle,
) -> Verdict {
    // A reblog is judged by the status it reblogs.
    let proper = b.reblog.as_deref().unwrap_or(b);
    let mut text: Option<String> = None;
    let mut matches = Vec::new();
    for f in filters {
        let other_context = context.is_some_and(|c| !f.row.contexts.contains(&c));
        if other_context || f.row.expires_at_ms.is_some_and(|e| e <= now) {
            continue;
        }
        let status_matches: Vec<Id> = f
            .row
            .statuses
            .iter()
            .filter(|s| s.status_id == proper.status.id)
            .map(|s| s.status_id)
            .collect();
        let mut keyword_hits = Vec::new();
        if !f.keywords.is_empty() {
            let text = text.get_or_insert_with(|| searchable_text(proper));
            for (original, lower, whole_word) in &f.keywords {
                if keyword_matches(text, lower, *whole_word) {
                    keyword_hits.push(original.clone());
                }
            }
        }
        if keyword_hits.is_empty() && status_matches.is_empty() {
            continue;
        }
        if context.is_some() && f.row.action == FilterAction::Hide {
            return Verdict::Hide;
        }
        matches.push(FilterMatch {
            filter: FilterRow {
                keywords: Vec::new(),
                statuses: Vec::new(),
                ..f.row.clone()
            },
            keyword_matches: keyword_hits,
            status_matches,
        });
    }
    Verdict::Show(matches)
}

fn blank(what: &str) -> ServiceError {
    ServiceError::Unprocessable(format!("Validation failed: {what} can't be blank"))
}

impl Service {
    fn filter_bounds(&self) -> FilterBounds {
        let l = self.limits();
        FilterBounds {
            filters_max: l.filters_per_account_max,
            keywords_max: l.filter_keywords_per_filter_max,
            statuses_max: l.filter_statuses_per_filter_max,
        }
    }

    fn filter_title(&self, title: String) -> ServiceResult<String> {
        let title = title.trim().to_owned();
        if title.is_empty() {
            return Err(blank("Title"));
        }
        let max = self.limits().filter_title_max_chars;
        if title.chars().count() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Title is too long (maximum is {max} characters)"
            )));
        }
        Ok(title)
    }

    fn filter_contexts(contexts: Vec<String>) -> ServiceResult<Vec<FilterContext>> {
        if contexts.is_empty() {
            return Err(blank("Context"));
        }
        let mut out = Vec::new();
        for c in &contexts {
            let parsed = FilterContext::parse(c).ok_or_else(|| {
                ServiceError::Unprocessable(
                    "Validation failed: Context None or invalid context supplied".into(),
                )
            })?;
            if !out.contains(&parsed) {
                out.push(parsed);
            }
        }
        Ok(out)
    }

    fn filter_action(action: &str) -> ServiceResult<FilterAction> {
        FilterAction::parse(action).ok_or_else(|| {
            ServiceError::Unprocessable(
                "Validation failed: Filter action is not included in the list".into(),
            )
        })
    }

    /// When the filter ends (ms), from `expires_in` seconds from now.
    fn filter_expiry(&self, expires_in: ExpiresIn) -> ServiceResult<Option<i64>> {
        match expires_in {
            ExpiresIn::Never => Ok(None),
            ExpiresIn::Seconds(s) => {
                let max = self.limits().filter_expires_in_max_s;
                if s <= 0 || s as u64 > max {
                    return Err(ServiceError::Unprocessable(format!(
                        "Validation failed: Expires in must be between 1 and {max} seconds"
                    )));
                }
                Ok(Some(now_ms() + s * 1000))
            }
        }
    }

    fn filter_keyword(&self, keyword: Option<String>) -> ServiceResult<String> {
        let keyword = keyword.unwrap_or_default().trim().to_owned();
        if keyword.is_empty() {
            return Err(blank("Keyword"));
        }
        let max = self.limits().filter_keyword_max_chars;
        if keyword.chars().count() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Keyword is too long (maximum is {max} characters)"
            )));
        }
        Ok(keyword)
    }

    fn new_keyword(&self, k: KeywordFields) -> ServiceResult<NewKeyword> {
        Ok(NewKeyword {
            keyword: self.filter_keyword(k.keyword)?,
            whole_word: k.whole_word.unwrap_or(true),
        })
    }

    /// Too many keywords in one request is refused before the store counts.
    fn keyword_count(&self, n: usize) -> ServiceResult<()> {
        let max = self.limits().filter_keywords_per_filter_max;
        if n > max as usize {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: a filter has at most {max} keywords"
            )));
        }
        Ok(())
    }

    /// After any change: this node forgets the compiled filters, and the
    /// account's streams (on every node) are told `filters_changed`.
    fn filters_changed(&self, me: Id) {
        self.filter_cache.forget(me);
        self.events
            .publish(Event::FiltersChanged { account_id: me });
    }

    pub async fn create_filter(&self, me: Id, f: FilterFields) -> ServiceResult<FilterRow> {
        let title = self.filter_title(f.title.unwrap_or_default())?;
        let contexts = Self::filter_contexts(f.contexts.unwrap_or_default())?;
        let action = Self::filter_action(f.action.as_deref().unwrap_or("warn"))?;
        let expires_at_ms = self.filter_expiry(f.expires_in.unwrap_or(ExpiresIn::Never))?;
        let mut keywords = Vec::new();
        for k in f.keywords {
            if k.id.is_some() {
                // A keyword id on create names nothing of this filter (Mastodon: 404).
                return Err(ServiceError::not_found());
            }
            if !k.destroy {
                keywords.push(self.new_keyword(k)?);
            }
        }
        self.keyword_count(keywords.len())?;
        let new = NewFilter {
            title,
            contexts,
            action,
            expires_at_ms,
            keywords,
        };
        let row = self
            .store
            .create_filter(me, new, self.filter_bounds())
            .await?;
        self.filters_changed(me);
        Ok(row)
    }

    pub async fn filters(&self, me: Id) -> ServiceResult<Vec<FilterRow>> {
        Ok(self.store.filters(me).await?)
    }

    pub async fn filter(&self, me: Id, id: Id) -> ServiceResult<FilterRow> {
        Ok(self.store.filter(me, id).await?)
    }

    pub async fn update_filter(&self, me: Id, id: Id, f: FilterFields) -> ServiceResult<FilterRow> {
        let mut keywords = Vec::new();
        for k in f.keywords {
            keywords.push(match (k.id, k.destroy) {
                (Some(kid), true) => KeywordChange::Remove(kid),
                (None, true) => continue,
                (Some(kid), false) => KeywordChange::Edit {
                    id: kid,
                    keyword: match k.keyword {
                        Some(text) => Some(self.filter_keyword(Some(text))?),
                        None => None,
                    },
                    whole_word: k.whole_word,
                },
                (None, false) => KeywordChange::Add(self.new_keyword(k)?),
            });
        }
        self.keyword_count(keywords.len())?;
        let update = FilterUpdate {
            title: f.title.map(|t| self.filter_title(t)).transpose()?,
            contexts: f.contexts.map(Self::filter_contexts).transpose()?,
            action: f.action.as_deref().map(Self::filter_action).transpose()?,
            expires_at_ms: f.expires_in.map(|e| self.filter_expiry(e)).transpose()?,
            keywords,
        };
        let row = self
            .store
            .update_filter(me, id, update, self.filter_bounds())
            .await?;
        self.filters_changed(me);
        Ok(row)
    }

    pub async fn delete_filter(&self, me: Id, id: Id) -> ServiceResult<()> {
        self.store.delete_filter(me, id).await?;
        self.filters_changed(me);
        Ok(())
    }

    pub async fn filter_keywords(
        &self,
        me: Id,
        filter: Id,
    ) -> ServiceResult<Vec<FilterKeywordRow>> {
        Ok(self.store.filter(me, filter).await?.keywords)
    }

    pub async fn add_filter_keyword(
        &self,
        me: Id,
        filter: Id,
        k: KeywordFields,
    ) -> ServiceResult<FilterKeywordRow> {
        let new = self.new_keyword(k)?;
        let max = self.limits().filter_keywords_per_filter_max;
        let row = self.store.add_filter_keyword(me, filter, new, max).await?;
        self.filters_changed(me);
        Ok(row)
    }

    pub async fn filter_keyword_row(&self, me: Id, id: Id) -> ServiceResult<FilterKeywordRow> {
        Ok(self.store.filter_keyword(me, id).await?)
    }

    pub async fn update_filter_keyword(
        &self,
        me: Id,
        id: Id,
        k: KeywordFields,
    ) -> ServiceResult<FilterKeywordRow> {
        let keyword = self.filter_keyword(k.keyword)?;
        let row = self
            .store
            .update_filter_keyword(me, id, Some(keyword), k.whole_word)
            .await?;
        self.filters_changed(me);
        Ok(row)
    }

    pub async fn delete_filter_keyword(&self, me: Id, id: Id) -> ServiceResult<()> {
        self.store.delete_filter_keyword(me, id).await?;
        self.filters_changed(me);
        Ok(())
    }

    pub async fn filter_statuses(&self, me: Id, filter: Id) -> ServiceResult<Vec<FilterStatusRow>> {
        Ok(self.store.filter(me, filter).await?.statuses)
    }

    /// Filters a status the caller can see (any other id is 404).
    pub async fn add_filter_status(
        &self,
        me: Id,
        filter: Id,
        status: Option<Id>,
    ) -> ServiceResult<FilterStatusRow> {
        let status = status.ok_or_else(|| blank("Status"))?;
        // 404 for someone else's filter before looking at the status.
        self.store.filter(me, filter).await?;
        self.status(Some(me), status).await?;
        let max = self.limits().filter_statuses_per_filter_max;
        let row = self
            .store
            .add_filter_status(me, filter, status, max)
            .await?;
        self.filters_changed(me);
        Ok(row)
    }

    pub async fn filter_status_row(&self, me: Id, id: Id) -> ServiceResult<FilterStatusRow> {
        Ok(self.store.filter_status(me, id).await?)
    }

    pub async fn delete_filter_status(&self, me: Id, id: Id) -> ServiceResult<()> {
        self.store.delete_filter_status(me, id).await?;
        self.filters_changed(me);
        Ok(())
    }

    // ---- v1: each keyword is a filter of its own ----

    pub async fn v1_filters(&self, me: Id) -> ServiceResult<Vec<V1Filter>> {
        let filters = self.store.filters(me).await?;
        Ok(filters
            .into_iter()
            .flat_map(|f| {
                f.keywords.clone().into_iter().map(move |k| V1Filter {
                    keyword: k,
                    filter: f.clone(),
                })
            })
            .collect())
    }

    pub async fn v1_filter(&self, me: Id, id: Id) -> ServiceResult<V1Filter> {
        let keyword = self.store.filter_keyword(me, id).await?;
        let filter = self.store.filter(me, keyword.filter_id).await?;
        Ok(V1Filter { keyword, filter })
    }

    fn v1_action(irreversible: bool) -> &'static str {
        if irreversible {
            FilterAction::Hide.as_str()
        } else {
            FilterAction::Warn.as_str()
        }
    }

    /// A v1 filter is a v2 filter titled by its phrase, with that one keyword.
    pub async fn create_v1_filter(&self, me: Id, f: V1FilterFields) -> ServiceResult<V1Filter> {
        let phrase = self.filter_keyword(f.phrase)?;
        let row = self
            .create_filter(
                me,
                FilterFields {
                    title: Some(phrase.clone()),
                    contexts: f.contexts,
                    action: Some(Self::v1_action(f.irreversible.unwrap_or(false)).into()),
                    expires_in: f.expires_in,
                    keywords: vec![KeywordFields {
                        keyword: Some(phrase),
                        whole_word: Some(f.whole_word.unwrap_or(false)),
                        ..Default::default()
                    }],
                },
            )
            .await?;
        let keyword = row
            .keywords
            .first()
            .cloned()
            .ok_or_else(|| ServiceError::Internal("a new v1 filter has no keyword".into()))?;
        Ok(V1Filter {
            keyword,
            filter: row,
        })
    }

    /// Changes the keyword, and its filter's settings when the filter has
    /// no other keyword (as Mastodon: 422 otherwise).
    pub async fn update_v1_filter(
        &self,
        me: Id,
        id: Id,
        f: V1FilterFields,
    ) -> ServiceResult<V1Filter> {
        let current = self.v1_filter(me, id).await?;
        let phrase = match f.phrase {
            Some(p) => Some(self.filter_keyword(Some(p))?),
            None => None,
        };
        let changes_filter =
            f.contexts.is_some() || f.irreversible.is_some() || f.expires_in.is_some();
        if changes_filter && current.filter.keywords.len() > 1 {
            return Err(ServiceError::Unprocessable(
                "Validation failed: this filter has several keywords; change it with /api/v2/filters"
                    .into(),
            ));
        }
        let row = self
            .update_filter(
                me,
                current.filter.id,
                FilterFields {
                    title: None,
                    contexts: f.contexts,
                    action: f.irreversible.map(|i| Self::v1_action(i).to_owned()),
                    expires_in: f.expires_in,
                    keywords: vec![KeywordFields {
                        id: Some(id),
                        keyword: phrase,
                        whole_word: f.whole_word,
                        destroy: false,
                    }],
                },
            )
            .await?;
        let keyword = row
            .keywords
            .iter()
            .find(|k| k.id == id)
            .cloned()
            .ok_or_else(ServiceError::not_found)?;
        Ok(V1Filter {
            keyword,
            filter: row,
        })
    }

    /// Removes the keyword; its filter goes too when nothing is left in it.
    pub async fn delete_v1_filter(&self, me: Id, id: Id) -> ServiceResult<()> {
        let keyword = self.store.delete_filter_keyword(me, id).await?;
        let filter = self.store.filter(me, keyword.filter_id).await?;
        if filter.keywords.is_empty() && filter.statuses.is_empty() {
            self.store.delete_filter(me, filter.id).await?;
        }
        self.filters_changed(me);
        Ok(())
    }

    // ---- applying them ----

    /// The viewer's filters, compiled once per change (or per cache lifetime).
    async fn compiled_filters(&self, me: Id) -> ServiceResult<Arc<Vec<Compiled>>> {
        if let Some(hit) = self.filter_cache.get(me) {
            return Ok(hit);
        }
        let now = now_ms();
        let compiled: Vec<Compiled> = self
            .store
            .filters(me)
            .await?
            .into_iter()
            .filter(|f| f.expires_at_ms.is_none_or(|e| e > now))
            .map(|row| Compiled {
                keywords: row
                    .keywords
                    .iter()
                    .map(|k| (k.keyword.clone(), k.keyword.to_lowercase(), k.whole_word))
                    .collect(),
                row,
            })
            .collect();
        let compiled = Arc::new(compiled);
        self.filter_cache.put(me, compiled.clone());
        Ok(compiled)
    }

    /// Applies the viewer's filters for `context` to statuses fetched for
    /// it: hidden ones are dropped, the others carry their matches. The
    /// viewer's own statuses are never filtered; nothing happens without a viewer.
    pub async fn apply_filters(
        &self,
        viewer: Option<Id>,
        context: FilterContext,
        bundles: Vec<StatusBundle>,
    ) -> ServiceResult<Vec<StatusBundle>> {
        self.judge_bundles(viewer, Some(context), bundles).await
    }

    /// Statuses shown outside any filter context (one opened by id, the
    /// viewer's favourites and bookmarks): each carries the matches of the
    /// viewer's filters in every context, `hide` ones included, and none is
    /// removed; Mastodon renders them so, and the app applies the context.
    pub async fn annotate_filters(
        &self,
        viewer: Option<Id>,
        bundles: Vec<StatusBundle>,
    ) -> ServiceResult<Vec<StatusBundle>> {
        self.judge_bundles(viewer, None, bundles).await
    }

    async fn judge_bundles(
        &self,
        viewer: Option<Id>,
        context: Option<FilterContext>,
        bundles: Vec<StatusBundle>,
    ) -> ServiceResult<Vec<StatusBundle>> {
        let Some(me) = viewer else {
            return Ok(bundles);
        };
        let filters = self.compiled_filters(me).await?;
        if filters.is_empty() {
            return Ok(bundles);
        }
        let now = now_ms();
        Ok(bundles
            .into_iter()
            .filter_map(|b| self.filtered_bundle(&filters, context, now, me, b))
            .collect())
    }

    /// The bundle with its matches, or None when a `hide` filter matches.
    fn filtered_bundle(
        &self,
        filters: &[Compiled],
        context: Option<FilterContext>,
        now: i64,
        me: Id,
        mut b: StatusBundle,
    ) -> Option<StatusBundle> {
        let proper_author = b.reblog.as_deref().unwrap_or(&b).status.account_id;
        if proper_author == me {
            return Some(b);
        }
        match judge(filters, context, now, &b) {
            Verdict::Hide => None,
            Verdict::Show(matches) => {
                if let Some(inner) = b.reblog.as_deref_mut() {
                    inner.filtered = matches.clone();
                }
                b.filtered = matches;
                Some(b)
            }
        }
    }

    /// Whether the viewer has active filters for `context` (from the cache:
    /// cheap), so a shared rendering can be used when it has none.
    pub async fn has_filters(&self, viewer: Option<Id>, context: FilterContext) -> bool {
        let Some(me) = viewer else { return false };
        let now = now_ms();
        match self.compiled_filters(me).await {
            Ok(filters) => filters.iter().any(|f| {
                f.row.contexts.contains(&context) && f.row.expires_at_ms.is_none_or(|e| e > now)
            }),
            // Unknown: the viewer's own rendering, where filters apply if they can.
            Err(_) => true,
        }
    }

    /// One status for `context`: None when the viewer hides it there.
    pub async fn apply_filters_one(
        &self,
        viewer: Option<Id>,
        context: FilterContext,
        bundle: StatusBundle,
    ) -> ServiceResult<Option<StatusBundle>> {
        Ok(self
            .apply_filters(viewer, context, vec![bundle])
            .await?
            .pop())
    }
}

#[cfg(test)]
mod tests {
    use super::keyword_matches;

    #[test]
    fn whole_words_respect_boundaries() {
        assert!(keyword_matches("i like cats.", "cat", false));
        assert!(!keyword_matches("i like cats.", "cat", true));
        assert!(keyword_matches("cat!", "cat", true));
        assert!(keyword_matches("a cat", "cat", true));
        assert!(!keyword_matches("concatenate", "cat", true));
        assert!(keyword_matches("bad word here", "bad word", true));
        // A keyword that ends in punctuation needs no boundary after it.
        assert!(keyword_matches("see https://t.co/x", "https://t.co/", true));
        // Unicode letters are word characters.
        assert!(!keyword_matches("caféine", "café", true));
        assert!(keyword_matches("un café noir", "café", true));
        // The second occurrence may be the whole word.
        assert!(keyword_matches("cats and cat", "cat", true));
        assert!(!keyword_matches("anything", "", false));
    }
}
