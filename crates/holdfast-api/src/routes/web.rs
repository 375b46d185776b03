//! The default avatar and header pictures. The web UI's pages live in
//! `crate::web`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

pub async fn missing_image(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png".to_owned()),
            (
                header::CACHE_CONTROL,
                format!(
                    "public, max-age={}",
                    state.service.limits().web_static_max_age_s
                ),
            ),
        ],
        include_bytes!("missing.png").as_slice(),
    )
}
