//! Moderation: roles, account actions, reports, the audit log, the
//! instance's domain and address blocks, and announcements.
//!
//! Who may do what: moderators (and admins) handle reports and accounts and
//! read the audit log; only admins manage blocks, announcements, roles and
//! delete accounts. The CLI acts as the operator, who may do everything.
//! Every change is written with its audit entry in one transaction.

use std::net::IpAddr;

use holdfast_store::{
    AccountChange, AccountRow, AdminAccountFilter, AdminAccountRow, AnnouncementInput,
    AnnouncementRow, AuditRow, BlockInput, BlockKind, BlockRow, DomainBlockInput, Id, IpBlockInput,
    NewAudit, NewReport, ReportChange, ReportFilter, ReportRow, Role, StatusBundle, StoreError,
};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// Who acts: an account (through the API or the web UI), or the operator (the CLI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Operator,
    Account(Id),
}

impl Actor {
    pub fn account_id(self) -> Option<Id> {
        match self {
            Actor::Operator => None,
            Actor::Account(id) => Some(id),
        }
    }
}

/// What `POST /api/v1/admin/accounts/:id/action` may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAction {
    /// A warning: recorded, nothing else changes.
    None,
    Sensitive,
    Disable,
    Silence,
    Suspend,
}

impl AccountAction {
    pub fn parse(s: &str) -> Option<AccountAction> {
        match s {
            "none" => Some(AccountAction::None),
            "sensitive" => Some(AccountAction::Sensitive),
            "disable" => Some(AccountAction::Disable),
            "silence" => Some(AccountAction::Silence),
            "suspend" => Some(AccountAction::Suspend),
            _ => None,
        }
    }
}

/// A report as a user files it (`POST /api/v1/reports`).
#[derive(Clone, Debug, Default)]
pub struct ReportInput {
    pub account_id: Id,
    pub status_ids: Vec<Id>,
    pub comment: String,
    /// Accepted and ignored: holdfast does not federate, so there is nowhere to forward to.
    pub forward: bool,
    pub category: Option<String>,
    pub rule_ids: Vec<String>,
}

/// A report with everything a moderator needs to judge it.
#[derive(Clone, Debug)]
pub struct ReportView {
    pub report: ReportRow,
    pub account: AdminAccountRow,
    pub target: AdminAccountRow,
    pub assigned: Option<AdminAccountRow>,
    pub action_taken_by: Option<AdminAccountRow>,
    /// The reported statuses that still exist, whoever may see them.
    pub statuses: Vec<StatusBundle>,
    /// The rules the report cites, in its order; a rule deleted since is
    /// still here, with its `deleted_at_ms`.
    pub rules: Vec<holdfast_store::RuleRow>,
}

const REPORT_CATEGORIES: &[&str] = &["spam", "legal", "violation", "other"];
const DOMAIN_SEVERITIES: &[&str] = &["silence", "suspend", "noop"];
/// Mastodon's address-block severities, each enforced at sign-up (see `check_sign_up_address`).
pub const IP_SEVERITIES: &[&str] = &["sign_up_requires_approval", "sign_up_block", "no_access"];

/// What an address block means for a sign-up from that address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignUpAddress {
    Allowed,
    NeedsApproval,
    Refused,
}

pub(crate) fn audit(
    actor: Actor,
    action: &str,
    target_type: &'static str,
    target_id: Option<Id>,
    target_name: &str,
    detail: String,
) -> NewAudit {
    NewAudit {
        actor: actor.account_id(),
        action: action.to_owned(),
        target_type,
        target_id,
        target_name: target_name.to_owned(),
        detail,
    }
}

pub(crate) fn too_long(what: &str, max: usize) -> ServiceError {
    ServiceError::Unprocessable(format!(
        "Validation failed: {what} is too long (maximum is {max} characters)"
    ))
}

fn change_name(change: AccountChange) -> &'static str {
    match change {
        AccountChange::Suspended(true) => "suspend",
        AccountChange::Suspended(false) => "unsuspend",
        AccountChange::Silenced(true) => "silence",
        AccountChange::Silenced(false) => "unsilence",
        AccountChange::Sensitized(true) => "sensitive",
        AccountChange::Sensitized(false) => "unsensitive",
        AccountChange::Disabled(true) => "disable",
        AccountChange::Disabled(false) => "enable",
        AccountChange::Approved => "approve",
        AccountChange::Role(_) => "change_role",
    }
}

impl Service {
    /// A page of an admin list, clamped to the admin bounds.
    fn admin_page(&self, req: PageRequest) -> holdfast_store::Page {
        let limits = self.limits();
        req.page(limits.admin_page_default, limits.admin_page_max)
    }

    // ---------------------------------------------------------------- roles

    /// The account's role (a missing account has none).
    pub async fn role(&self, id: Id) -> ServiceResult<Role> {
        match self.store.account(id).await {
            Ok(a) => Ok(a.role),
            Err(StoreError::NotFound) => Ok(Role::User),
            Err(e) => Err(e.into()),
        }
    }

    /// Forbidden unless the actor holds at least `needs`.
    pub async fn authorize(&self, actor: Actor, needs: Role) -> ServiceResult<()> {
        match actor {
            Actor::Operator => Ok(()),
            Actor::Account(id) if self.role(id).await? >= needs => Ok(()),
            Actor::Account(_) => Err(ServiceError::forbidden()),
        }
    }

    /// Grants (or with `Role::User` revokes) a role. Admins and the operator only.
    pub async fn set_role(
        &self,
        actor: Actor,
        id: Id,
        role: Role,
    ) -> ServiceResult<AdminAccountRow> {
        self.authorize(actor, Role::Admin).await?;
        let target = self.store.account(id).await?;
        Ok(self
            .store
            .change_account(
                id,
                AccountChange::Role(role),
                audit(
                    actor,
                    "change_role",
                    "account",
                    Some(id),
                    &target.username,
                    role.as_str().to_owned(),
                ),
            )
            .await?)
    }

    /// The CLI's `holdfast user grant|revoke`.
    pub async fn set_role_of(&self, username: &str, role: Role) -> ServiceResult<AdminAccountRow> {
        let a = self.store.account_by_username(username).await?;
        self.set_role(Actor::Operator, a.id, role).await
    }

    // ---------------------------------------------------------------- accounts

    pub async fn admin_accounts(
        &self,
        actor: Actor,
        filter: AdminAccountFilter,
        page: PageRequest,
    ) -> ServiceResult<PageOf<AdminAccountRow>> {
        self.authorize(actor, Role::Moderator).await?;
        let paged = self
            .store
            .admin_accounts(filter, self.admin_page(page))
            .await?;
        Ok(PageOf::from_paged(paged))
    }

    pub async fn admin_account(&self, actor: Actor, id: Id) -> ServiceResult<AdminAccountRow> {
        self.authorize(actor, Role::Moderator).await?;
        Ok(self.store.admin_account(id).await?)
    }

    /// A moderator may act only on accounts of a lower role than their own.
    async fn check_target(&self, actor: Actor, id: Id) -> ServiceResult<AdminAccountRow> {
        let target = self.store.admin_account(id).await?;
        if let Actor::Account(me) = actor {
            if me == id || target.account.role >= self.role(me).await? {
                return Err(ServiceError::forbidden());
            }
        }
        Ok(target)
    }

    /// One change (approve, unsuspend, unsilence, enable, unsensitive, or
    /// their opposites), recorded in the audit log.
    pub async fn change_account(
        &self,
        actor: Actor,
        id: Id,
        change: AccountChange,
    ) -> ServiceResult<AdminAccountRow> {
        if matches!(change, AccountChange::Role(_)) {
            return Err(ServiceError::Internal(
                "roles change through set_role".into(),
            ));
        }
        self.authorize(actor, Role::Moderator).await?;
        let target = self.check_target(actor, id).await?;
        Ok(self
            .store
            .change_account(
                id,
                change,
                audit(
                    actor,
                    change_name(change),
                    "account",
                    Some(id),
                    &target.account.username,
                    String::new(),
                ),
            )
            .await?)
    }

    /// `POST /api/v1/admin/accounts/:id/action`: takes the action, and resolves
    /// `report_id` (which must be about this account) when given.
    pub async fn act_on_account(
        &self,
        actor: Actor,
        id: Id,
        action: AccountAction,
        report_id: Option<Id>,
        text: &str,
    ) -> ServiceResult<()> {
        self.authorize(actor, Role::Moderator).await?;
        if text.chars().count() > self.limits().moderation_note_max_chars {
            return Err(too_long("Text", self.limits().moderation_note_max_chars));
        }
        let target = self.check_target(actor, id).await?;
        if let Some(report_id) = report_id {
            let report = self.store.report(report_id).await?;
            if report.target_account_id != id {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: the report is about another account".into(),
                ));
            }
        }
        let change = match action {
            AccountAction::None => None,
            AccountAction::Sensitive => Some(AccountChange::Sensitized(true)),
            AccountAction::Disable => Some(AccountChange::Disabled(true)),
            AccountAction::Silence => Some(AccountChange::Silenced(true)),
            AccountAction::Suspend => Some(AccountChange::Suspended(true)),
        };
        let entry = |name: &str| {
            audit(
                actor,
                name,
                "account",
                Some(id),
                &target.account.username,
                text.to_owned(),
            )
        };
        match change {
            Some(change) => {
                self.store
                    .change_account(id, change, entry(change_name(change)))
                    .await?;
            }
            None => self.store.record_audit(entry("warn")).await?,
        }
        if let Some(report_id) = report_id {
            self.store
                .change_report(
                    report_id,
                    ReportChange::Resolve {
                        by: actor.account_id(),
                        note: text.to_owned(),
                    },
                    audit(
                        actor,
                        "resolve_report",
                        "report",
                        Some(report_id),
                        &target.account.username,
                        text.to_owned(),
                    ),
                )
                .await?;
        }
        Ok(())
    }

    /// Rejects a pending sign-up: the account is deleted. Returns it as it was.
    pub async fn reject_account(&self, actor: Actor, id: Id) -> ServiceResult<AdminAccountRow> {
        self.authorize(actor, Role::Moderator).await?;
        let target = self.check_target(actor, id).await?;
        match self
            .store
            .remove_account(
                id,
                true,
                audit(
                    actor,
                    "reject",
                    "account",
                    Some(id),
                    &target.account.username,
                    String::new(),
                ),
            )
            .await
        {
            Err(StoreError::Rejected(_)) => Err(ServiceError::Forbidden(
                "This account is not awaiting approval".into(),
            )),
            other => Ok(other.map(|()| target)?),
        }
    }

    /// `DELETE /api/v1/admin/accounts/:id`: deletes a suspended account and
    /// all it owns (admins only; suspend first, as Mastodon requires).
    pub async fn delete_account_data(
        &self,
        actor: Actor,
        id: Id,
    ) -> ServiceResult<AdminAccountRow> {
        self.authorize(actor, Role::Admin).await?;
        let target = self.check_target(actor, id).await?;
        if !target.account.suspended {
            return Err(ServiceError::Forbidden(
                "Only a suspended account can be deleted".into(),
            ));
        }
        self.store
            .remove_account(
                id,
                false,
                audit(
                    actor,
                    "delete_account",
                    "account",
                    Some(id),
                    &target.account.username,
                    String::new(),
                ),
            )
            .await?;
        Ok(target)
    }

    /// The CLI's `holdfast user suspend|unsuspend|approve|silence|...` by name.
    pub async fn change_account_by_name(
        &self,
        username: &str,
        change: AccountChange,
    ) -> ServiceResult<AdminAccountRow> {
        let a = self.store.account_by_username(username).await?;
        self.change_account(Actor::Operator, a.id, change).await
    }

    /// The CLI's `holdfast user delete`: the account and all it owns.
    pub async fn delete_user(&self, username: &str) -> ServiceResult<AccountRow> {
        let a = self.store.account_by_username(username).await?;
        self.store
            .remove_account(
                a.id,
                false,
                audit(
                    Actor::Operator,
                    "delete_account",
                    "account",
                    Some(a.id),
                    &a.username,
                    String::new(),
                ),
            )
            .await?;
        Ok(a)
    }

    // ---------------------------------------------------------------- passwords (the operator's; users change theirs in `web`)

    fn check_new_password(&self, password: &str) -> ServiceResult<()> {
        let limits = self.limits();
        let n = password.chars().count();
        if n < limits.password_min_chars || n > limits.password_max_chars {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Password must be between {} and {} characters",
                limits.password_min_chars, limits.password_max_chars
            )));
        }
        Ok(())
    }

    /// The CLI's `holdfast user password`: sets it and ends every session.
    pub async fn reset_password(&self, username: &str, new: String) -> ServiceResult<AccountRow> {
        let a = self.store.account_by_username(username).await?;
        self.check_new_password(&new)?;
        let hash = self.passwords.hash(new).await?;
        // No session is kept: the operator is not logged in as the account.
        self.store.set_password_hash(a.id, &hash, "").await?;
        Ok(a)
    }

    // ---------------------------------------------------------------- reports

    /// `POST /api/v1/reports`. The reported account must be one the caller
    /// may see, every status one of its statuses the caller may see, every
    /// rule a rule in force; `violation` needs rules, rules make it `violation`.
    pub async fn file_report(&self, me: Id, input: ReportInput) -> ServiceResult<ReportRow> {
        let limits = self.limits();
        let target = self.account(Some(me), input.account_id).await?;
        if target.id == me {
            return Err(ServiceError::Unprocessable(
                "Validation failed: You cannot report yourself".into(),
            ));
        }
        if input.comment.chars().count() > limits.report_comment_max_chars {
            return Err(too_long("Comment", limits.report_comment_max_chars));
        }
        let mut status_ids = input.status_ids.clone();
        status_ids.sort_unstable();
        status_ids.dedup();
        if status_ids.len() > limits.report_statuses_max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: a report may name at most {} statuses",
                limits.report_statuses_max
            )));
        }
        let not_theirs = || {
            ServiceError::Unprocessable(
                "Validation failed: Statuses must be statuses of the reported account".into(),
            )
        };
        for id in &status_ids {
            if !self.store.status_visible(Some(me), *id).await? {
                return Err(not_theirs());
            }
        }
        let mut rule_ids = input.rule_ids.clone();
        rule_ids.dedup();
        self.check_rule_ids(&rule_ids).await?;
        let category = match input.category.as_deref().map(str::trim) {
            _ if !rule_ids.is_empty() => "violation".to_owned(),
            None | Some("") => "other".to_owned(),
            Some(c) if REPORT_CATEGORIES.contains(&c) => c.to_owned(),
            Some(c) => {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Category {c} is not one of spam, legal, violation, other"
                )))
            }
        };
        if category == "violation" && rule_ids.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: a violation report must name the rules broken (rule_ids)"
                    .into(),
            ));
        }
        let new = NewReport {
            account_id: me,
            target_account_id: target.id,
            status_ids,
            comment: input.comment,
            category,
            forwarded: false,
            rule_ids,
        };
        match self
            .store
            .create_report(new, limits.reports_open_per_account_max)
            .await
        {
            Err(StoreError::Rejected(why)) if why.starts_with("Statuses") => Err(not_theirs()),
            other => Ok(other?),
        }
    }

    async fn report_view(&self, report: ReportRow) -> ServiceResult<ReportView> {
        let one = |id: Option<Id>| async move {
            match id {
                None => Ok(None),
                Some(id) => match self.store.admin_account(id).await {
                    Ok(a) => Ok(Some(a)),
                    Err(StoreError::NotFound) => Ok(None),
                    Err(e) => Err(ServiceError::from(e)),
                },
            }
        };
        let account = self.store.admin_account(report.account_id).await?;
        let target = self.store.admin_account(report.target_account_id).await?;
        let assigned = one(report.assigned_account_id).await?;
        let action_taken_by = one(report.action_taken_by_account_id).await?;
        // Moderators see what was reported whoever it was meant for.
        let statuses = self.bundles(None, &report.status_ids).await?;
        let rules = self.rules_cited(&report.rule_ids).await?;
        Ok(ReportView {
            report,
            account,
            target,
            assigned,
            action_taken_by,
            statuses,
            rules,
        })
    }

    pub async fn admin_reports(
        &self,
        actor: Actor,
        filter: ReportFilter,
        page: PageRequest,
    ) -> ServiceResult<PageOf<ReportView>> {
        self.authorize(actor, Role::Moderator).await?;
        let paged = self.store.reports(filter, self.admin_page(page)).await?;
        let mut items = Vec::with_capacity(paged.len());
        for p in &paged {
            items.push(self.report_view(p.item.clone()).await?);
        }
        Ok(PageOf::map_from(&paged, items))
    }

    pub async fn admin_report(&self, actor: Actor, id: Id) -> ServiceResult<ReportView> {
        self.authorize(actor, Role::Moderator).await?;
        let report = self.store.report(id).await?;
        self.report_view(report).await
    }

    async fn change_report(
        &self,
        actor: Actor,
        id: Id,
        action: &str,
        change: ReportChange,
        detail: String,
    ) -> ServiceResult<ReportView> {
        self.authorize(actor, Role::Moderator).await?;
        let report = self.store.report(id).await?;
        let target = self.store.account(report.target_account_id).await?;
        let report = self
            .store
            .change_report(
                id,
                change,
                audit(actor, action, "report", Some(id), &target.username, detail),
            )
            .await?;
        self.report_view(report).await
    }

    /// Assigns the report to the acting moderator (`assign_to_self`).
    pub async fn assign_report_to_self(&self, actor: Actor, id: Id) -> ServiceResult<ReportView> {
        let me = actor.account_id();
        if me.is_none() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: the operator cannot be assigned a report".into(),
            ));
        }
        self.change_report(
            actor,
            id,
            "assign_report",
            ReportChange::Assign(me),
            String::new(),
        )
        .await
    }

    pub async fn unassign_report(&self, actor: Actor, id: Id) -> ServiceResult<ReportView> {
        self.change_report(
            actor,
            id,
            "unassign_report",
            ReportChange::Assign(None),
            String::new(),
        )
        .await
    }

    /// Marks the report handled, with a note saying how.
    pub async fn resolve_report(
        &self,
        actor: Actor,
        id: Id,
        note: &str,
    ) -> ServiceResult<ReportView> {
        if note.chars().count() > self.limits().moderation_note_max_chars {
            return Err(too_long("Note", self.limits().moderation_note_max_chars));
        }
        let change = ReportChange::Resolve {
            by: actor.account_id(),
            note: note.to_owned(),
        };
        self.change_report(actor, id, "resolve_report", change, note.to_owned())
            .await
    }

    pub async fn reopen_report(&self, actor: Actor, id: Id) -> ServiceResult<ReportView> {
        self.change_report(
            actor,
            id,
            "reopen_report",
            ReportChange::Reopen,
            String::new(),
        )
        .await
    }

    /// `PUT /api/v1/admin/reports/:id`: a new category and/or rules.
    pub async fn update_report(
        &self,
        actor: Actor,
        id: Id,
        category: Option<String>,
        rule_ids: Option<Vec<String>>,
    ) -> ServiceResult<ReportView> {
        if let Some(c) = &category {
            if !REPORT_CATEGORIES.contains(&c.as_str()) {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Category {c} is not one of spam, legal, violation, other"
                )));
            }
        }
        if let Some(ids) = &rule_ids {
            self.check_rule_ids(ids).await?;
        }
        let detail = format!(
            "{} {}",
            category.as_deref().unwrap_or(""),
            rule_ids.as_ref().map(|r| r.join(",")).unwrap_or_default()
        );
        self.change_report(
            actor,
            id,
            "update_report",
            ReportChange::Update { category, rule_ids },
            detail.trim().to_owned(),
        )
        .await
    }

    // ---------------------------------------------------------------- audit log

    /// Who did what, newest first (moderators and admins).
    pub async fn audit_log(
        &self,
        actor: Actor,
        page: PageRequest,
    ) -> ServiceResult<PageOf<AuditRow>> {
        self.authorize(actor, Role::Moderator).await?;
        let paged = self.store.audit_log(self.admin_page(page)).await?;
        Ok(PageOf::from_paged(paged))
    }

    // ---------------------------------------------------------------- instance blocks

    /// Normalizes the block's key and checks it against its kind's rules.
    fn check_block(&self, block: &mut BlockInput) -> ServiceResult<()> {
        match block {
            BlockInput::Domain(b) => self.check_domain_block(b),
            BlockInput::Ip(b) => self.check_ip_block(b),
        }
    }

    fn check_domain_block(&self, b: &mut DomainBlockInput) -> ServiceResult<()> {
        let limits = self.limits();
        b.domain = b.domain.trim().trim_end_matches('.').to_lowercase();
        let valid = !b.domain.is_empty()
            && b.domain.chars().count() <= limits.domain_max_chars
            && b.domain.contains('.')
            && b.domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '*');
        if !valid {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Domain is not a valid domain name".into(),
            ));
        }
        if !DOMAIN_SEVERITIES.contains(&b.severity.as_str()) {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Severity must be silence, suspend or noop".into(),
            ));
        }
        for c in [&b.private_comment, &b.public_comment]
            .into_iter()
            .flatten()
        {
            if c.chars().count() > limits.moderation_note_max_chars {
                return Err(too_long("Comment", limits.moderation_note_max_chars));
            }
        }
        Ok(())
    }

    fn check_ip_block(&self, b: &mut IpBlockInput) -> ServiceResult<()> {
        b.ip = Network::parse(&b.ip)
            .ok_or_else(|| {
                ServiceError::Unprocessable(
                    "Validation failed: Ip is not an IP address or network (CIDR)".into(),
                )
            })?
            .to_string();
        if !IP_SEVERITIES.contains(&b.severity.as_str()) {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Severity must be sign_up_requires_approval, sign_up_block or no_access".into(),
            ));
        }
        if b.comment.chars().count() > self.limits().moderation_note_max_chars {
            return Err(too_long("Comment", self.limits().moderation_note_max_chars));
        }
        Ok(())
    }

    /// How many blocks of the kind may be in force.
    fn blocks_max(&self, kind: BlockKind) -> u32 {
        match kind {
            BlockKind::Domain => self.limits().admin_domain_blocks_max,
            BlockKind::Ip => self.limits().ip_blocks_max,
        }
    }

    /// The audit entry for `action` (`create`, `update`, `delete`) on a block.
    fn block_audit(
        actor: Actor,
        action: &str,
        kind: BlockKind,
        id: Option<Id>,
        key: &str,
        severity: &str,
    ) -> NewAudit {
        audit(
            actor,
            &format!("{action}_{}", kind.name()),
            kind.name(),
            id,
            key,
            severity.to_owned(),
        )
    }

    pub async fn create_instance_block(
        &self,
        actor: Actor,
        mut block: BlockInput,
    ) -> ServiceResult<BlockRow> {
        self.authorize(actor, Role::Admin).await?;
        self.check_block(&mut block)?;
        let kind = block.kind();
        let entry = Self::block_audit(actor, "create", kind, None, block.key(), block.severity());
        Ok(self
            .store
            .create_instance_block(block, self.blocks_max(kind), entry)
            .await?)
    }

    pub async fn instance_blocks(
        &self,
        actor: Actor,
        kind: BlockKind,
        page: PageRequest,
    ) -> ServiceResult<PageOf<BlockRow>> {
        self.authorize(actor, Role::Admin).await?;
        let paged = self
            .store
            .instance_blocks(kind, self.admin_page(page))
            .await?;
        Ok(PageOf::from_paged(paged))
    }

    pub async fn instance_block(
        &self,
        actor: Actor,
        kind: BlockKind,
        id: Id,
    ) -> ServiceResult<BlockRow> {
        self.authorize(actor, Role::Admin).await?;
        Ok(self.store.instance_block(kind, id).await?)
    }

    /// Changes a block in force. A domain block keeps its domain (Mastodon's
    /// update takes none); an address block may move to another address.
    pub async fn update_instance_block(
        &self,
        actor: Actor,
        id: Id,
        mut block: BlockInput,
    ) -> ServiceResult<BlockRow> {
        self.authorize(actor, Role::Admin).await?;
        let kind = block.kind();
        let old = self.store.instance_block(kind, id).await?;
        if let (BlockInput::Domain(new), BlockRow::Domain(old)) = (&mut block, &old) {
            new.domain.clone_from(&old.domain);
        }
        self.check_block(&mut block)?;
        let entry = Self::block_audit(
            actor,
            "update",
            kind,
            Some(id),
            block.key(),
            block.severity(),
        );
        Ok(self.store.update_instance_block(id, block, entry).await?)
    }

    pub async fn delete_instance_block(
        &self,
        actor: Actor,
        kind: BlockKind,
        id: Id,
    ) -> ServiceResult<()> {
        self.authorize(actor, Role::Admin).await?;
        // The store names the key it removed in the entry.
        let entry = Self::block_audit(actor, "delete", kind, Some(id), "", "");
        Ok(self.store.delete_instance_block(kind, id, entry).await?)
    }

    /// What the address blocks in force say about a sign-up from `addr`:
    /// `sign_up_block` and `no_access` refuse it, `sign_up_requires_approval`
    /// makes it wait for a moderator even when registrations are open.
    pub async fn check_sign_up_address(&self, addr: IpAddr) -> ServiceResult<SignUpAddress> {
        let blocks = self
            .store
            .live_instance_blocks(BlockKind::Ip, self.blocks_max(BlockKind::Ip))
            .await?;
        let mut verdict = SignUpAddress::Allowed;
        for b in blocks {
            let BlockRow::Ip(b) = b else { continue };
            if !Network::parse(&b.ip).is_some_and(|n| n.contains(addr)) {
                continue;
            }
            match b.severity.as_str() {
                "sign_up_block" | "no_access" => return Ok(SignUpAddress::Refused),
                _ => verdict = SignUpAddress::NeedsApproval,
            }
        }
        Ok(verdict)
    }

    // ---------------------------------------------------------------- announcements

    fn announcement_input(
        &self,
        text: &str,
        starts_at_ms: Option<i64>,
        ends_at_ms: Option<i64>,
        all_day: bool,
        published: bool,
    ) -> ServiceResult<AnnouncementInput> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Text can't be blank".into(),
            ));
        }
        if text.chars().count() > self.limits().announcement_text_max_chars {
            return Err(too_long("Text", self.limits().announcement_text_max_chars));
        }
        if let (Some(s), Some(e)) = (starts_at_ms, ends_at_ms) {
            if e <= s {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: Ends at must be after starts at".into(),
                ));
            }
        }
        Ok(AnnouncementInput {
            text: text.to_owned(),
            content: crate::text::note_html(text, &self.base_url),
            starts_at_ms,
            ends_at_ms,
            all_day,
            published,
        })
    }

    /// Publishes an announcement to every user, or keeps it as a draft only
    /// admins see until `publish_announcement` (admins and the operator).
    pub async fn create_announcement(
        &self,
        actor: Actor,
        text: &str,
        starts_at_ms: Option<i64>,
        ends_at_ms: Option<i64>,
        all_day: bool,
        published: bool,
    ) -> ServiceResult<AnnouncementRow> {
        self.authorize(actor, Role::Admin).await?;
        let input = self.announcement_input(text, starts_at_ms, ends_at_ms, all_day, published)?;
        let entry = audit(
            actor,
            "create_announcement",
            "announcement",
            None,
            "",
            input.text.clone(),
        );
        Ok(self
            .store
            .create_announcement(input, self.limits().announcements_max, entry)
            .await?)
    }

    pub async fn update_announcement(
        &self,
        actor: Actor,
        id: Id,
        text: &str,
        starts_at_ms: Option<i64>,
        ends_at_ms: Option<i64>,
        all_day: bool,
    ) -> ServiceResult<AnnouncementRow> {
        self.authorize(actor, Role::Admin).await?;
        // Whether it is published stays as it is (`publish_announcement`).
        let input = self.announcement_input(text, starts_at_ms, ends_at_ms, all_day, true)?;
        let entry = audit(
            actor,
            "update_announcement",
            "announcement",
            Some(id),
            "",
            input.text.clone(),
        );
        Ok(self.store.update_announcement(id, input, entry).await?)
    }

    /// Publishes a draft now, or takes a published announcement back to a draft.
    pub async fn publish_announcement(
        &self,
        actor: Actor,
        id: Id,
        published: bool,
    ) -> ServiceResult<AnnouncementRow> {
        self.authorize(actor, Role::Admin).await?;
        let action = if published {
            "publish_announcement"
        } else {
            "unpublish_announcement"
        };
        let entry = audit(actor, action, "announcement", Some(id), "", String::new());
        Ok(self
            .store
            .publish_announcement(id, published, entry)
            .await?)
    }

    pub async fn delete_announcement(&self, actor: Actor, id: Id) -> ServiceResult<()> {
        self.authorize(actor, Role::Admin).await?;
        let entry = audit(
            actor,
            "delete_announcement",
            "announcement",
            Some(id),
            "",
            String::new(),
        );
        Ok(self.store.delete_announcement(id, entry).await?)
    }

    /// Every announcement, ended or not yet begun included (admins).
    pub async fn all_announcements(&self, actor: Actor) -> ServiceResult<Vec<AnnouncementRow>> {
        self.authorize(actor, Role::Admin).await?;
        Ok(self
            .store
            .announcements(None, false, self.limits().announcements_max)
            .await?)
    }

    /// `GET /api/v1/announcements`: the active ones, with the caller's read
    /// state and reactions; with `with_dismissed` false, those not yet dismissed.
    pub async fn announcements(
        &self,
        me: Id,
        with_dismissed: bool,
    ) -> ServiceResult<Vec<AnnouncementRow>> {
        let all = self
            .store
            .announcements(Some(me), true, self.limits().announcements_max)
            .await?;
        Ok(all
            .into_iter()
            .filter(|a| with_dismissed || !a.read)
            .collect())
    }

    pub async fn dismiss_announcement(&self, me: Id, id: Id) -> ServiceResult<()> {
        self.active_announcement(id).await?;
        Ok(self.store.dismiss_announcement(me, id).await?)
    }

    async fn active_announcement(&self, id: Id) -> ServiceResult<()> {
        let now = holdfast_store::ids::now_ms();
        let a = self.store.announcement(id, None).await?;
        let begun = a.starts_at_ms.is_none_or(|s| s <= now);
        let ended = a.ends_at_ms.is_some_and(|e| e <= now);
        if !a.published || !begun || ended {
            return Err(ServiceError::not_found());
        }
        Ok(())
    }

    /// Adds or removes the caller's reaction: one emoji (holdfast has no
    /// custom emojis), so a name of letters or digits is refused.
    pub async fn react_to_announcement(
        &self,
        me: Id,
        id: Id,
        name: &str,
        add: bool,
    ) -> ServiceResult<()> {
        self.active_announcement(id).await?;
        let limits = self.limits();
        let looks_like_emoji = !name.is_empty()
            && name.chars().count() <= limits.announcement_reaction_name_max_chars
            && !name
                .chars()
                .any(|c| c.is_ascii() || c.is_alphanumeric() || c.is_whitespace());
        if !looks_like_emoji {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Name is not a recognized emoji".into(),
            ));
        }
        Ok(self
            .store
            .react_to_announcement(me, id, name, add, limits.announcement_reactions_max)
            .await?)
    }
}

/// An address or network (CIDR), normalized to its network address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Option<Network> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return None;
        }
        Some(Network {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        // An IPv4 client may arrive as an IPv4-mapped IPv6 address.
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        addr.is_ipv4() == self.addr.is_ipv4() && mask(addr, self.prefix) == self.addr
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & keep).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & keep).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_normalized_and_match_their_addresses() {
        let n = Network::parse("10.1.2.3/8").unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!(n.contains("10.200.0.1".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.9".parse().unwrap()));
        assert_eq!(
            Network::parse("127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        let v6 = Network::parse("2001:db8::1/32").unwrap();
        assert_eq!(v6.to_string(), "2001:db8::/32");
        assert!(v6.contains("2001:db8:ffff::2".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert_eq!(
            Network::parse("0.0.0.0/0").unwrap().to_string(),
            "0.0.0.0/0"
        );
        for bad in ["", "10.0.0.0/33", "nope", "10.0.0/8", "::/129"] {
            assert!(Network::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn actions_parse_as_mastodon_names_them() {
        assert_eq!(
            AccountAction::parse("suspend"),
            Some(AccountAction::Suspend)
        );
        assert_eq!(AccountAction::parse("none"), Some(AccountAction::None));
        assert_eq!(AccountAction::parse("ban"), None);
    }
}
