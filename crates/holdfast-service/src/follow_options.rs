//! What a follow carries besides reblogs and notifications (the languages
//! it shows), and who is not to be suggested again.

use holdfast_store::Id;

use crate::{Service, ServiceError, ServiceResult};

impl Service {
    /// The languages a follow asks for, checked: each an ISO 639 code, at
    /// most `follow_languages_max` of them, lower-cased, without repeats.
    pub(crate) fn follow_languages(&self, list: Vec<String>) -> ServiceResult<Vec<String>> {
        let l = self.limits();
        if list.len() > l.follow_languages_max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Languages can hold at most {} languages",
                l.follow_languages_max
            )));
        }
        let mut out: Vec<String> = Vec::with_capacity(list.len());
        for lang in list {
            let lang = lang.trim().to_lowercase();
            if lang.is_empty() {
                continue;
            }
            if !crate::oauth::valid_language(&lang, l.language_max_chars) {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: Languages holds a code that is not a language".into(),
                ));
            }
            if !out.contains(&lang) {
                out.push(lang);
            }
        }
        Ok(out)
    }

    /// `DELETE /api/v1/suggestions/:account_id`: remembered, so the account
    /// is not suggested again; an account `me` may not see is 404.
    pub async fn dismiss_suggestion(&self, me: Id, target: Id) -> ServiceResult<()> {
        self.account(Some(me), target).await?;
        Ok(self.store.dismiss_suggestion(me, target).await?)
    }
}
