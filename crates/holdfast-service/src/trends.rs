//! Trends and nodeinfo's usage counts, computed locally.

use holdfast_config::ids::id_floor_at_ms;
use holdfast_config::time::now_ms;
use holdfast_store::{StatusBundle, TagRow, Usage};

use crate::{Id, Service, ServiceError, ServiceResult};

// fact: a day; NodeInfo defines activeMonth and activeHalfyear as 30 and 180 days.
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Which trend a page is of; each has its own page size in `Limits`.
#[derive(Clone, Copy)]
pub enum Trend {
    Tags,
    Statuses,
}

impl Service {
    /// Accounts, those that posted in the last 30 and 180 days, and posts.
    pub async fn usage(&self) -> ServiceResult<Usage> {
        let now = now_ms();
        Ok(self
            .store
            .usage(now - 30 * DAY_MS, now - 180 * DAY_MS)
            .await?)
    }

    pub async fn trending_tags(
        &self,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<Vec<TagRow>> {
        let (since, scan, limit, offset) = self.trend_page(Trend::Tags, limit, offset)?;
        Ok(self.store.trending_tags(since, scan, limit, offset).await?)
    }

    pub async fn trending_statuses(
        &self,
        viewer: Option<Id>,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<Vec<StatusBundle>> {
        let (since, scan, limit, offset) = self.trend_page(Trend::Statuses, limit, offset)?;
        let ids = self
            .store
            .trending_statuses(since, scan, limit, offset)
            .await?;
        self.bundles(viewer, &ids).await
    }

    /// (first id of the window, statuses to scan, limit, offset) for a trends page.
    fn trend_page(
        &self,
        trend: Trend,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<(Id, u32, u32, u32)> {
        let l = self.limits();
        let (default, max) = match trend {
            Trend::Tags => (l.trends_tags_page_default, l.trends_tags_page_max),
            Trend::Statuses => (l.trends_statuses_page_default, l.trends_statuses_page_max),
        };
        let offset = offset.unwrap_or(0);
        if offset > l.trends_offset_max {
            return Err(ServiceError::BadRequest(format!(
                "offset may be at most {}",
                l.trends_offset_max
            )));
        }
        let since = id_floor_at_ms(now_ms() - (l.trends_window_s as i64).saturating_mul(1000));
        Ok((
            since,
            l.trends_scan_statuses_max,
            limit.unwrap_or(default).clamp(1, max),
            offset,
        ))
    }
}
