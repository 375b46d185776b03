//! The server rules (webui, issue 13): read by everyone (`/api/v1/instance/rules`,
//! the instance entity, the sign-up and report forms), edited by admins from
//! the moderation pages, each change audit-logged.
//!
//! They live in the store. The config file's `[instance] rules` seed it once,
//! on first use, with ids 1..n (what reports named them by before); from then
//! on the moderation pages own them, and the config's list is not read again.
//! A rule's id never changes, and a deleted rule is kept (marked deleted, as
//! Mastodon does), so a report shows which rules it cited whatever happened
//! to them since.

use holdfast_store::{Id, NewRule, Role, RuleBounds, RuleRow};

use crate::moderation::{audit, too_long, Actor};
use crate::{Service, ServiceError, ServiceResult};

impl Service {
    /// Every rule, the deleted ones too, in order; seeds the store from the
    /// config the first time (nothing is seeded into a table that ever held a rule).
    async fn every_rule(&self) -> ServiceResult<Vec<RuleRow>> {
        let rows = self.store.rules(true).await?;
        let configured = &self.config.instance.rules;
        if !rows.is_empty() || configured.is_empty() {
            return Ok(rows);
        }
        let seed = configured
            .iter()
            .map(|r| NewRule {
                text: r.text.trim().to_owned(),
                hint: r.hint.trim().to_owned(),
            })
            .collect();
        self.store.seed_rules(seed).await?;
        Ok(self.store.rules(true).await?)
    }

    /// The rules in force, in order.
    pub async fn instance_rules(&self) -> ServiceResult<Vec<RuleRow>> {
        let mut rows = self.every_rule().await?;
        rows.retain(|r| r.deleted_at_ms.is_none());
        Ok(rows)
    }

    /// The rules with these ids, in the order given, deleted ones included
    /// (a report shows what it cited); ids that name no rule are left out.
    pub async fn rules_cited(&self, ids: &[String]) -> ServiceResult<Vec<RuleRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let every = self.every_rule().await?;
        Ok(ids
            .iter()
            .filter_map(|id| every.iter().find(|r| r.id.to_string() == *id).cloned())
            .collect())
    }

    /// Refuses rule ids that are not rules in force (what a report may cite).
    pub(crate) async fn check_rule_ids(&self, ids: &[String]) -> ServiceResult<()> {
        if ids.len() > self.limits().report_rules_max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: a report may name at most {} rules",
                self.limits().report_rules_max
            )));
        }
        if ids.is_empty() {
            return Ok(());
        }
        let in_force = self.instance_rules().await?;
        if let Some(bad) = ids
            .iter()
            .find(|id| !in_force.iter().any(|r| r.id.to_string() == **id))
        {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Rule ids: {bad} is not one of the server's rules"
            )));
        }
        Ok(())
    }

    fn rule_input(&self, text: &str, hint: &str) -> ServiceResult<NewRule> {
        let limits = self.limits();
        let (text, hint) = (text.trim(), hint.trim());
        if text.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Text can't be blank".into(),
            ));
        }
        if text.chars().count() > limits.rule_text_max_chars {
            return Err(too_long("Text", limits.rule_text_max_chars));
        }
        if hint.chars().count() > limits.rule_hint_max_chars {
            return Err(too_long("Hint", limits.rule_hint_max_chars));
        }
        Ok(NewRule {
            text: text.to_owned(),
            hint: hint.to_owned(),
        })
    }

    /// Adds a rule after the others (admins).
    pub async fn create_rule(
        &self,
        actor: Actor,
        text: &str,
        hint: &str,
    ) -> ServiceResult<RuleRow> {
        self.authorize(actor, Role::Admin).await?;
        let rule = self.rule_input(text, hint)?;
        // Seeded first, so the configured rules keep ids 1..n.
        self.every_rule().await?;
        let limits = self.limits();
        let bounds = RuleBounds {
            live_max: limits.rules_max,
            kept_max: limits.rules_kept_max,
        };
        let entry = audit(
            actor,
            "create_rule",
            "rule",
            None,
            &rule.text,
            rule.hint.clone(),
        );
        Ok(self.store.create_rule(rule, bounds, entry).await?)
    }

    /// New text and hint for a rule in force (admins); its id stays.
    pub async fn update_rule(
        &self,
        actor: Actor,
        id: Id,
        text: &str,
        hint: &str,
    ) -> ServiceResult<RuleRow> {
        self.authorize(actor, Role::Admin).await?;
        let rule = self.rule_input(text, hint)?;
        let entry = audit(
            actor,
            "update_rule",
            "rule",
            Some(id),
            &rule.text,
            rule.hint.clone(),
        );
        Ok(self.store.update_rule(id, rule, entry).await?)
    }

    /// Moves a rule one place earlier or later (admins).
    pub async fn move_rule(&self, actor: Actor, id: Id, earlier: bool) -> ServiceResult<()> {
        self.authorize(actor, Role::Admin).await?;
        let rule = self.live_rule(id).await?;
        let way = if earlier { "earlier" } else { "later" };
        let entry = audit(
            actor,
            "move_rule",
            "rule",
            Some(id),
            &rule.text,
            way.to_owned(),
        );
        Ok(self.store.move_rule(id, earlier, entry).await?)
    }

    /// Deletes a rule (admins): it leaves the list, and reports that cite it
    /// still show it, marked deleted.
    pub async fn delete_rule(&self, actor: Actor, id: Id) -> ServiceResult<()> {
        self.authorize(actor, Role::Admin).await?;
        let rule = self.live_rule(id).await?;
        let entry = audit(
            actor,
            "delete_rule",
            "rule",
            Some(id),
            &rule.text,
            String::new(),
        );
        Ok(self.store.delete_rule(id, entry).await?)
    }

    async fn live_rule(&self, id: Id) -> ServiceResult<RuleRow> {
        self.instance_rules()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(ServiceError::not_found)
    }
}
