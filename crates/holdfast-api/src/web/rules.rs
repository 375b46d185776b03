//! `/admin/rules`: the server rules. Moderators read them; admins add, edit,
//! reorder and delete them (webui, issue 13). Every change is the service's
//! (who may, what is valid, the audit entry); a deleted rule leaves the list
//! but stays cited, marked deleted, by the reports that named it.

use axum::extract::{Path, State};
use axum::response::Response;
use holdfast_store::RuleRow;
use maud::{html, Markup};

use super::instance_admin::delete_button;
use super::layout::{see_other, Page, WebError, WebResult};
use super::moderation::{actor, button_form, edit_form, field, id_of, is_admin, new_form, tabs};
use super::session::{FormPost, SignedIn, Viewer};
use crate::AppState;

fn rule_fields(prefix: &str, r: Option<&RuleRow>, state: &AppState) -> Markup {
    let limits = state.service.limits();
    html! {
        label for={ (prefix) "-text" } { "Rule" }
        input id={ (prefix) "-text" } type="text" name="text" required
            maxlength=(limits.rule_text_max_chars) value=(r.map_or("", |r| r.text.as_str()));
        label for={ (prefix) "-hint" } { "Explanation (optional)" }
        textarea id={ (prefix) "-hint" } name="hint" maxlength=(limits.rule_hint_max_chars) {
            @if let Some(r) = r { (r.hint) }
        }
    }
}

/// An admin's controls under a rule: edit, move, delete.
fn rule_controls(
    state: &AppState,
    viewer: &Viewer,
    r: &RuleRow,
    first: bool,
    last: bool,
) -> Markup {
    let base = format!("/admin/rules/{}", r.id);
    html! {
        (edit_form(viewer, &format!("{base}/update"), rule_fields(&format!("rule-{}", r.id), Some(r), state)))
        @if !first { (button_form(viewer, &format!("{base}/up"), &format!("up-rule-{}", r.id), "Move up", None, &[])) " " }
        @if !last { (button_form(viewer, &format!("{base}/down"), &format!("down-rule-{}", r.id), "Move down", None, &[])) " " }
        (delete_button(viewer, &format!("{base}/delete"), "this rule", &format!("delete-rule-{}", r.id)))
    }
}

/// `GET /admin/rules`
pub async fn page(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> WebResult<Response> {
    state
        .service
        .authorize(actor(&viewer), holdfast_store::Role::Moderator)
        .await?;
    let rules = state.service.instance_rules().await?;
    let admin = is_admin(&viewer);
    let main = html! {
        (tabs(&viewer))
        p.hint {
            "Everyone sees these rules, in apps and on this site; reports cite them. "
            "A deleted rule leaves the list, and the reports that cite it still show it."
            @if !admin { " Only admins change them." }
        }
        @if rules.is_empty() { p.empty #no-rules { "This server has no rules yet." } }
        ol #rules {
            @for (i, r) in rules.iter().enumerate() {
                li.rule id={ "rule-" (r.id) } {
                    span.text { (r.text) }
                    @if !r.hint.is_empty() { br; span.meta { (r.hint) } }
                    @if admin { div.controls { (rule_controls(&state, &viewer, r, i == 0, i + 1 == rules.len())) } }
                }
            }
        }
        @if admin {
            (new_form(&viewer, "new-rule", "/admin/rules", "New rule",
                rule_fields("new-rule", None, &state),
                html! { button #add-rule type="submit" { "Add the rule" } }))
        }
    };
    Ok(Page::new("Server rules", Some(&viewer)).render(&state, main))
}

/// `POST /admin/rules`: adds a rule after the others.
pub async fn create(
    State(state): State<AppState>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let text = field(&params, "text").unwrap_or_default();
    let hint = field(&params, "hint").unwrap_or_default();
    let r = state
        .service
        .create_rule(actor(&viewer), &text, &hint)
        .await?;
    Ok(see_other(&format!("/admin/rules#rule-{}", r.id)))
}

/// `POST /admin/rules/{id}/{update|up|down|delete}`
pub async fn act(
    State(state): State<AppState>,
    Path((id, what)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let svc = &state.service;
    let who = actor(&viewer);
    match what.as_str() {
        "update" => {
            let text = field(&params, "text").unwrap_or_default();
            let hint = field(&params, "hint").unwrap_or_default();
            svc.update_rule(who, id, &text, &hint).await?;
        }
        "up" | "down" => svc.move_rule(who, id, what == "up").await?,
        "delete" => {
            svc.delete_rule(who, id).await?;
            return Ok(see_other("/admin/rules"));
        }
        _ => return Err(WebError::not_found()),
    }
    Ok(see_other(&format!("/admin/rules#rule-{id}")))
}
