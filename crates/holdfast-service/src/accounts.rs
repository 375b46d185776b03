//! Accounts and the social graph: profiles, follows, blocks, mutes.

use holdfast_store::{
    AccountRow, AccountUpdate, FollowOptions, Id, Relationship, StoreError, Visibility,
};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

#[derive(Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub privacy: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
}

impl Service {
    /// An account others may see: suspended or unapproved accounts are 404 to everyone but themselves.
    pub async fn account(&self, viewer: Option<Id>, id: Id) -> ServiceResult<AccountRow> {
        let account = self.store.account(id).await?;
        if (account.suspended || !account.approved) && viewer != Some(id) {
            return Err(ServiceError::not_found());
        }
        Ok(account)
    }

    /// `acct` is `name` or `name@our-domain`; anything else is not ours to know.
    pub async fn lookup(&self, acct: &str) -> ServiceResult<AccountRow> {
        let acct = acct.trim().trim_start_matches('@');
        let username = match acct.split_once('@') {
            Some((name, domain)) if domain.eq_ignore_ascii_case(&self.config.domain) => name,
            Some(_) => return Err(ServiceError::not_found()),
            None => acct,
        };
        let account = match self.store.account_by_username(username).await {
            Err(StoreError::NotFound) => return Err(ServiceError::not_found()),
            other => other?,
        };
        if account.suspended || !account.approved {
            return Err(ServiceError::not_found());
        }
        Ok(account)
    }

    pub async fn update_profile(&self, me: Id, u: ProfileUpdate) -> ServiceResult<AccountRow> {
        let limits = self.limits();
        if let Some(n) = &u.display_name {
            if n.chars().count() > limits.display_name_max_chars {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Display name is too long (maximum is {} characters)",
                    limits.display_name_max_chars
                )));
            }
        }
        if let Some(n) = &u.note {
            if n.chars().count() > limits.note_max_chars {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Note is too long (maximum is {} characters)",
                    limits.note_max_chars
                )));
            }
        }
        let default_visibility = match u.privacy.as_deref() {
            None => None,
            Some(p) => match Visibility::parse(p) {
                Some(Visibility::Direct) | None => {
                    return Err(ServiceError::Unprocessable(
                        "Validation failed: Privacy is not a valid default visibility".into(),
                    ))
                }
                v => v,
            },
        };
        if let Some(l) = &u.language {
            if !crate::oauth::valid_language(l, self.limits().language_max_chars) {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: Language is not a valid language code".into(),
                ));
            }
        }
        Ok(self
            .store
            .update_account(
                me,
                AccountUpdate {
                    display_name: u.display_name.map(|s| s.trim().to_owned()),
                    note: u.note,
                    locked: u.locked,
                    bot: u.bot,
                    discoverable: u.discoverable,
                    default_visibility,
                    default_sensitive: u.sensitive,
                    default_language: u.language,
                },
            )
            .await?)
    }

    pub async fn relationships(&self, me: Id, ids: &[Id]) -> ServiceResult<Vec<Relationship>> {
        if ids.len() > self.limits().relationships_ids_max {
            return Err(ServiceError::BadRequest(format!(
                "at most {} ids at once",
                self.limits().relationships_ids_max
            )));
        }
        Ok(self.store.relationships(me, ids).await?)
    }

    pub(crate) async fn relationship(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        self.store
            .relationships(me, &[target])
            .await?
            .pop()
            .ok_or_else(|| ServiceError::Internal("relationship query returned nothing".into()))
    }

    /// A target for a graph action: exists and is visible. Acting on oneself
    /// is allowed here and changes nothing (Mastodon's block, mute and their
    /// undo return early for self and answer 200 with the relationship); only
    /// following oneself is refused, in `follow`.
    async fn graph_target(&self, me: Id, target: Id) -> ServiceResult<Option<AccountRow>> {
        let account = self.account(Some(me), target).await?;
        Ok((target != me).then_some(account))
    }

    /// `languages`: None keeps what a follow has; empty means all languages.
    pub async fn follow(
        &self,
        me: Id,
        target: Id,
        reblogs: Option<bool>,
        notify: Option<bool>,
        languages: Option<Vec<String>>,
    ) -> ServiceResult<Relationship> {
        let languages = match languages {
            Some(list) => Some(self.follow_languages(list)?),
            None => None,
        };
        if self.graph_target(me, target).await?.is_none() {
            // Mastodon's `check_following_self`: 403 with this message.
            return Err(ServiceError::Forbidden(
                "Following your own account is not allowed".into(),
            ));
        }
        let rel = self.relationship(me, target).await?;
        if rel.blocked_by || rel.blocking {
            return Err(ServiceError::forbidden());
        }
        let options = FollowOptions {
            reblogs: reblogs.unwrap_or(rel.showing_reblogs || !rel.following),
            notify: notify.unwrap_or(rel.notifying),
            languages,
        };
        self.store.follow_with(me, target, options).await?;
        self.announce_notified(me, target);
        self.relationship(me, target).await
    }

    pub async fn unfollow(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        if self.graph_target(me, target).await?.is_some() {
            self.store.unfollow(me, target).await?;
        }
        self.relationship(me, target).await
    }

    pub async fn block(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        if self.graph_target(me, target).await?.is_some() {
            self.store.block(me, target).await?;
        }
        self.relationship(me, target).await
    }

    pub async fn unblock(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        if self.graph_target(me, target).await?.is_some() {
            self.store.unblock(me, target).await?;
        }
        self.relationship(me, target).await
    }

    pub async fn mute(
        &self,
        me: Id,
        target: Id,
        notifications: Option<bool>,
        duration_s: Option<u64>,
    ) -> ServiceResult<Relationship> {
        let ends_at_ms = self.mute_end(duration_s)?;
        if self.graph_target(me, target).await?.is_some() {
            self.store
                .mute(me, target, notifications.unwrap_or(true), ends_at_ms)
                .await?;
        }
        self.relationship(me, target).await
    }

    pub async fn unmute(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        if self.graph_target(me, target).await?.is_some() {
            self.store.unmute(me, target).await?;
        }
        self.relationship(me, target).await
    }

    pub async fn followers(
        &self,
        viewer: Option<Id>,
        id: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        self.account(viewer, id).await?;
        let page = self.accounts_page_bounds(req);
        let paged = self.store.followers(id, page).await?;
        self.account_page(paged).await
    }

    pub async fn following(
        &self,
        viewer: Option<Id>,
        id: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        self.account(viewer, id).await?;
        let page = self.accounts_page_bounds(req);
        let paged = self.store.following(id, page).await?;
        self.account_page(paged).await
    }

    /// A page of accounts as asked for, within the accounts' default and cap.
    pub(crate) fn accounts_page_bounds(&self, req: PageRequest) -> holdfast_store::Page {
        req.page(
            self.limits().accounts_page_default,
            self.limits().accounts_page_max,
        )
    }

    pub(crate) async fn account_page(
        &self,
        paged: Vec<holdfast_store::Paged<Id>>,
    ) -> ServiceResult<PageOf<AccountRow>> {
        let ids: Vec<Id> = paged.iter().map(|p| p.item).collect();
        let accounts = self.store.accounts(&ids).await?;
        Ok(PageOf::map_from(&paged, accounts))
    }
}
