//! Hashtags as an account uses them: following (public posts with the tag
//! join the home timeline), featuring on a profile, and what every Tag
//! entity carries: its use per day (`history`) and whether the viewer follows it.

use holdfast_config::time::now_ms;
use holdfast_store::{AccountRow, FeaturedTagRow, Id, StoreError, TagRef, TagRow};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

// fact: a day, the unit of a Tag's history.
const DAY_MS: i64 = 24 * 3600 * 1000;

/// A tag as the Tag entity shows it.
#[derive(Clone, Debug)]
pub struct TagView {
    pub tag: TagRow,
    /// One entry per day, newest first, `tag_history_days` of them.
    pub history: Vec<TagUse>,
    pub following: bool,
    /// Whether the viewer features it on their profile, where an answer says
    /// (`tags/:name/feature` and `unfeature`); None elsewhere (not sent).
    pub featuring: Option<bool>,
}

/// A tag's public use on one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagUse {
    /// The day's start (UTC), in seconds since the epoch.
    pub day_start_s: i64,
    pub uses: i64,
    pub accounts: i64,
}

/// A tag name as a client names it (`#` allowed in front), if it is one:
/// letters, digits and `_`, with at least one that is not a digit, as in
/// Mastodon. Lower-cased, as tags are stored.
pub(crate) fn tag_name(raw: &str) -> Option<String> {
    let name = raw.strip_prefix('#').unwrap_or(raw);
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit());
    valid.then(|| name.to_lowercase())
}

impl Service {
    /// Renders rows as Tag entities see them: history from real public use,
    /// and `following` for `viewer`. Two queries, whatever the number of tags.
    pub async fn tag_views(
        &self,
        viewer: Option<Id>,
        rows: Vec<TagRow>,
    ) -> ServiceResult<Vec<TagView>> {
        let ids: Vec<Id> = rows.iter().filter_map(|t| t.id).collect();
        let days = i64::from(self.limits().tag_history_days);
        let today = now_ms().div_euclid(DAY_MS);
        let first_day = today - days + 1;
        let (uses, followed) = if ids.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            let uses = self.store.tag_history(&ids, first_day * DAY_MS).await?;
            let followed = match viewer {
                Some(me) => self.store.followed_among(me, &ids).await?,
                None => Vec::new(),
            };
            (uses, followed)
        };
        Ok(rows
            .into_iter()
            .map(|tag| {
                let history = (0..days)
                    .map(|back| {
                        let day = today - back;
                        let used = uses
                            .iter()
                            .find(|u| Some(u.tag_id) == tag.id && u.day == day);
                        TagUse {
                            day_start_s: day * DAY_MS / 1000,
                            uses: used.map_or(0, |u| u.uses),
                            accounts: used.map_or(0, |u| u.accounts),
                        }
                    })
                    .collect();
                let following = tag.id.is_some_and(|id| followed.contains(&id));
                TagView {
                    tag,
                    history,
                    following,
                    featuring: None,
                }
            })
            .collect())
    }

    async fn tag_view(&self, viewer: Option<Id>, name: &str) -> ServiceResult<TagView> {
        let row = self.store.tag(name).await?;
        let mut views = self.tag_views(viewer, vec![row]).await?;
        views.pop().ok_or_else(ServiceError::not_found)
    }

    /// `GET /api/v1/tags/:name`: any valid name answers (a tag nobody used
    /// yet too, as in Mastodon); anything else is 404.
    pub async fn tag_info(&self, viewer: Option<Id>, name: &str) -> ServiceResult<TagView> {
        let name = tag_name(name).ok_or_else(ServiceError::not_found)?;
        self.tag_view(viewer, &name).await
    }

    pub async fn follow_tag(&self, me: Id, name: &str) -> ServiceResult<TagView> {
        let name = tag_name(name).ok_or_else(ServiceError::not_found)?;
        self.store
            .follow_tag(me, &name, self.limits().followed_tags_max)
            .await?;
        self.tag_view(Some(me), &name).await
    }

    pub async fn unfollow_tag(&self, me: Id, name: &str) -> ServiceResult<TagView> {
        let name = tag_name(name).ok_or_else(ServiceError::not_found)?;
        self.store.unfollow_tag(me, &name).await?;
        self.tag_view(Some(me), &name).await
    }

    pub async fn followed_tags(&self, me: Id, req: PageRequest) -> ServiceResult<PageOf<TagView>> {
        let page = req.page(
            self.limits().followed_tags_page_default,
            self.limits().followed_tags_page_max,
        );
        let paged = self.store.followed_tags(me, page).await?;
        let rows = paged.iter().map(|p| ref_row(&p.item)).collect();
        let items = self.tag_views(Some(me), rows).await?;
        Ok(PageOf::map_from(&paged, items))
    }

    /// An account's featured tags, with the account (their links name it);
    /// the account must be one `viewer` may see.
    pub async fn featured_tags(
        &self,
        viewer: Option<Id>,
        account: Id,
    ) -> ServiceResult<(AccountRow, Vec<FeaturedTagRow>)> {
        let owner = self.account(viewer, account).await?;
        let tags = self.store.featured_tags(account).await?;
        Ok((owner, tags))
    }

    /// 422 for a missing or invalid name, one featured already, or past `featured_tags_max`.
    pub async fn feature_tag(
        &self,
        me: Id,
        name: Option<String>,
    ) -> ServiceResult<(AccountRow, FeaturedTagRow)> {
        let raw = name.unwrap_or_default();
        if raw.trim().is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Tag can't be blank".into(),
            ));
        }
        let name = tag_name(raw.trim()).ok_or_else(|| {
            ServiceError::Unprocessable("Validation failed: Tag is invalid".into())
        })?;
        let owner = self.account(Some(me), me).await?;
        let tag = self
            .store
            .feature_tag(me, &name, self.limits().featured_tags_max)
            .await?;
        Ok((owner, tag))
    }

    pub async fn unfeature_tag(&self, me: Id, id: Id) -> ServiceResult<()> {
        Ok(self.store.unfeature_tag(me, id).await?)
    }

    /// Tags `me` used most lately and has not featured (as Tag entities).
    pub async fn featured_tag_suggestions(&self, me: Id) -> ServiceResult<Vec<TagView>> {
        let l = self.limits();
        let tags = self
            .store
            .featured_tag_suggestions(
                me,
                l.featured_tag_suggestions_scan_max,
                l.featured_tag_suggestions_max,
            )
            .await?;
        self.tag_views(Some(me), tags.iter().map(ref_row).collect())
            .await
    }
}

// ---- api: `tags/:name/feature` and `unfeature` (issue 14) ----
// Mastodon 4.4's aliases of `featured_tags`, by tag name: the same rows and
// the same bound (`featured_tags_max`), answered as the Tag entity.
impl Service {
    /// Featuring a tag featured already is no error (Mastodon answers the tag
    /// either way); an invalid name is 404, past `featured_tags_max` 422.
    pub async fn feature_tag_named(&self, me: Id, name: &str) -> ServiceResult<TagView> {
        let name = tag_name(name).ok_or_else(ServiceError::not_found)?;
        match self
            .store
            .feature_tag(me, &name, self.limits().featured_tags_max)
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.featuring_view(me, &name, true).await
    }

    /// Not featuring it is no error.
    pub async fn unfeature_tag_named(&self, me: Id, name: &str) -> ServiceResult<TagView> {
        let name = tag_name(name).ok_or_else(ServiceError::not_found)?;
        // At most `featured_tags_max` rows: the tag is found among them by name.
        let featured = self.store.featured_tags(me).await?;
        if let Some(f) = featured.iter().find(|f| f.name == name) {
            match self.store.unfeature_tag(me, f.id).await {
                // Gone already (a concurrent unfeature): the same answer.
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.featuring_view(me, &name, false).await
    }

    async fn featuring_view(&self, me: Id, name: &str, featuring: bool) -> ServiceResult<TagView> {
        let mut view = self.tag_view(Some(me), name).await?;
        view.featuring = Some(featuring);
        Ok(view)
    }
}

/// A tag known by id and name, as a row (its week counts are not needed by the entity).
fn ref_row(t: &TagRef) -> TagRow {
    TagRow {
        id: Some(t.id),
        name: t.name.clone(),
        uses_last_week: 0,
        accounts_last_week: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::tag_name;

    #[test]
    fn tag_names_are_words_with_a_non_digit() {
        assert_eq!(tag_name("#Rust").as_deref(), Some("rust"));
        assert_eq!(tag_name("café_2").as_deref(), Some("café_2"));
        assert_eq!(tag_name("123"), None);
        assert_eq!(tag_name(""), None);
        assert_eq!(tag_name("a-b"), None);
        assert_eq!(tag_name("a b"), None);
    }
}
