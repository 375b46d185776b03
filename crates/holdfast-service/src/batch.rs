//! Fetching many at once: `GET /api/v1/statuses?id[]=` and
//! `GET /api/v1/accounts?id[]=`. Unknown, invisible and malformed ids are
//! skipped (the answer may be shorter than the question, as in Mastodon);
//! more distinct ids than the bound is a 422, as in Mastodon.

use holdfast_store::{AccountRow, Id, StatusBundle};

use crate::{Service, ServiceError, ServiceResult};

fn distinct(ids: &[Id], max: usize) -> ServiceResult<Vec<Id>> {
    let mut out: Vec<Id> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
            if out.len() > max {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: at most {max} ids at once"
                )));
            }
        }
    }
    Ok(out)
}

impl Service {
    /// The statuses the viewer may see, in the order asked.
    pub async fn statuses_by_ids(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> ServiceResult<Vec<StatusBundle>> {
        let ids = distinct(ids, self.limits().fetch_statuses_ids_max)?;
        let mut visible = Vec::with_capacity(ids.len());
        for id in ids {
            if self.store.status_visible(viewer, id).await? {
                visible.push(id);
            }
        }
        let bundles = self.bundles(viewer, &visible).await?;
        self.annotate_filters(viewer, bundles).await
    }

    /// The accounts others may see (not suspended, approved), in the order asked.
    pub async fn accounts_by_ids(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> ServiceResult<Vec<AccountRow>> {
        let ids = distinct(ids, self.limits().fetch_accounts_ids_max)?;
        Ok(self
            .store
            .accounts(&ids)
            .await?
            .into_iter()
            .filter(|a| (!a.suspended && a.approved) || viewer == Some(a.id))
            .collect())
    }
}
