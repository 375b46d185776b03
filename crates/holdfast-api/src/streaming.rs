//! The streaming API: Server-Sent Events at `/api/v1/streaming/<stream>` and
//! a WebSocket at `/api/v1/streaming`, with Mastodon's stream names, event
//! names and payloads (`payload` is a JSON string; `delete` carries the bare id).
//!
//! Each connection holds one receiver of the service's event hub. For every
//! event it asks the store, as its own viewer, whether the status would be in
//! the REST timeline its stream mirrors (home, public, tag): the same SQL, so
//! the same visibility, block and mute rules. Notifications are fetched by the
//! connection itself after a poke, past its own cursor, so a poke twice never
//! delivers twice.
//!
//! Bounds: a per-connection byte budget for what the client has not taken yet
//! (past it the client is dropped as a slow consumer), a write timeout, the
//! hub's lag bound, WebSocket ping and idle timeouts, and connection slots per
//! account, per address and in total.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use holdfast_guard::listener::CloseConnection;
use holdfast_service::events::{DropReason, Event, Published, Refusal, Slot, StatusEvent};
use holdfast_service::scopes::Scopes;
use holdfast_service::streams::{EventMemo, StreamTimeline};
use holdfast_service::{PageRequest, Principal, ServiceError};
use holdfast_store::{FilterContext, Id, Visibility};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::entities::{self, Conversation, Notification, Status};
use crate::error::ApiError;
use crate::AppState;

// ---------------------------------------------------------------- streams

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    UserNotification,
    Public,
    PublicLocal,
    PublicRemote,
    Hashtag,
    HashtagLocal,
    Direct,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Stream {
    kind: Kind,
    media: bool,
    /// For hashtag streams: the tag as given (echoed back) …
    tag: Option<String>,
}

impl Stream {
    /// `stream` as Mastodon sends it with every WebSocket event.
    fn label(&self) -> Vec<String> {
        let name = match (self.kind, self.media) {
            (Kind::User, _) => "user",
            (Kind::UserNotification, _) => "user:notification",
            (Kind::Public, false) => "public",
            (Kind::Public, true) => "public:media",
            (Kind::PublicLocal, false) => "public:local",
            (Kind::PublicLocal, true) => "public:local:media",
            (Kind::PublicRemote, false) => "public:remote",
            (Kind::PublicRemote, true) => "public:remote:media",
            (Kind::Hashtag, _) => "hashtag",
            (Kind::HashtagLocal, _) => "hashtag:local",
            (Kind::Direct, _) => "direct",
        };
        let mut out = vec![name.to_owned()];
        if let Some(tag) = &self.tag {
            out.push(tag.clone());
        }
        out
    }

    fn tag_key(&self) -> Option<String> {
        self.tag.as_ref().map(|t| t.to_lowercase())
    }

    /// Public and hashtag streams need any valid token; the others `read` or
    /// the narrower scope Mastodon's streaming server checks, and a user.
    fn check_access(&self, p: &Principal) -> Result<(), StreamError> {
        let scope = match self.kind {
            Kind::Public
            | Kind::PublicLocal
            | Kind::PublicRemote
            | Kind::Hashtag
            | Kind::HashtagLocal => return Ok(()),
            Kind::UserNotification => "read:notifications",
            Kind::User | Kind::Direct => "read:statuses",
        };
        if !p.scopes.allows(scope) {
            return Err(StreamError::new(
                StatusCode::UNAUTHORIZED,
                "Access token does not have the required scopes",
            ));
        }
        if p.account_id.is_none() {
            return Err(StreamError::new(
                StatusCode::UNAUTHORIZED,
                "This stream requires an access token for a user",
            ));
        }
        Ok(())
    }
}

struct StreamError {
    status: StatusCode,
    message: &'static str,
}

impl StreamError {
    fn new(status: StatusCode, message: &'static str) -> StreamError {
        StreamError { status, message }
    }
    fn response(&self) -> Response {
        ApiError::new(self.status, self.message).into_response()
    }
    fn ws_message(&self) -> String {
        json!({"error": self.message, "status": self.status.as_u16()}).to_string()
    }
}

fn truthy(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.to_ascii_lowercase()).as_deref(),
        Some("1" | "true" | "t" | "on" | "yes")
    )
}

/// A stream by Mastodon's name, with its parameters.
fn parse_stream(
    name: &str,
    tag: Option<&str>,
    list: Option<&str>,
    only_media: bool,
) -> Result<Stream, StreamError> {
    let (kind, media) = match name {
        "user" => (Kind::User, false),
        "user:notification" => (Kind::UserNotification, false),
        "public" => (Kind::Public, only_media),
        "public:media" => (Kind::Public, true),
        "public:local" => (Kind::PublicLocal, only_media),
        "public:local:media" => (Kind::PublicLocal, true),
        "public:remote" => (Kind::PublicRemote, only_media),
        "public:remote:media" => (Kind::PublicRemote, true),
        "hashtag" => (Kind::Hashtag, false),
        "hashtag:local" => (Kind::HashtagLocal, false),
        "direct" => (Kind::Direct, false),
        // Lists do not exist here yet: no list is one the caller may stream.
        "list" => {
            let _ = list;
            return Err(StreamError::new(
                StatusCode::UNAUTHORIZED,
                "Not authorized to stream this list",
            ));
        }
        _ => {
            return Err(StreamError::new(
                StatusCode::BAD_REQUEST,
                "Unknown stream type",
            ))
        }
    };
    let tag = match kind {
        Kind::Hashtag | Kind::HashtagLocal => {
            let t = tag.map(str::trim).unwrap_or("");
            let t = t.strip_prefix('#').unwrap_or(t);
            if t.is_empty() {
                return Err(StreamError::new(
                    StatusCode::BAD_REQUEST,
                    "No tag for stream provided",
                ));
            }
            Some(t.to_owned())
        }
        _ => None,
    };
    Ok(Stream { kind, media, tag })
}

// ---------------------------------------------------------------- per-connection filtering

/// One message for the client: which stream, which event, its payload text.
struct Outgoing {
    stream: Vec<String>,
    event: &'static str,
    payload: String,
}

/// What a connection proved its viewer with; checked again now and then, so
/// a revoked token, an ended log-in session or a suspended account ends the stream.
enum Credential {
    /// An OAuth access token (the streaming API).
    Token(String),
    /// The secret of a web log-in session (the web UI's live home, `web_user_sse`).
    WebSession(String),
}

/// A connection's viewer, its subscriptions and its notification cursor.
struct Subscriber {
    state: AppState,
    principal: Principal,
    credential: Credential,
    streams: Vec<Stream>,
    /// The newest notification already sent (or there when the stream started).
    notification_cursor: Option<Id>,
}

/// A page holding exactly `id`, if the timeline has it.
impl Subscriber {
    fn viewer(&self) -> Option<Id> {
        self.principal.account_id
    }

    /// False once the token no longer authenticates (revoked, account
    /// suspended) or the web session ended; a database hiccup is not a revocation.
    async fn still_authorized(&self) -> bool {
        let service = &self.state.service;
        match &self.credential {
            Credential::Token(token) => !matches!(
                service.authenticate(token).await,
                Err(ServiceError::Unauthorized(_))
            ),
            Credential::WebSession(secret) => {
                !matches!(service.session_account(secret).await, Ok(None))
            }
        }
    }

    /// Adds a stream (a second subscription to the same stream is a no-op).
    async fn add(&mut self, stream: Stream) -> Result<bool, StreamError> {
        stream.check_access(&self.principal)?;
        if self.streams.contains(&stream) {
            return Ok(false);
        }
        if matches!(stream.kind, Kind::User | Kind::UserNotification)
            && self.notification_cursor.is_none()
        {
            let me = self.viewer().unwrap_or_default();
            let newest = self
                .state
                .service
                .notifications(
                    me,
                    &[],
                    &[],
                    None,
                    PageRequest {
                        limit: Some(1),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|_| {
                    StreamError::new(StatusCode::SERVICE_UNAVAILABLE, "Try again later")
                })?;
            self.notification_cursor = Some(newest.items.first().map_or(0, |n| n.row.id));
        }
        self.streams.push(stream);
        Ok(true)
    }

    fn remove(&mut self, stream: &Stream) -> bool {
        let before = self.streams.len();
        self.streams.retain(|s| s != stream);
        before != self.streams.len()
    }

    async fn messages_for(&mut self, published: &Published) -> Vec<Outgoing> {
        match &published.event {
            Event::Posted(s) => self.posted(s, &published.memo(), "update").await,
            Event::Edited(s) => self.posted(s, &published.memo(), "status.update").await,
            Event::Deleted(s) => self.deleted(s).await,
            Event::Notified { account_id } => {
                if self.viewer() == Some(*account_id) {
                    self.notified().await
                } else {
                    Vec::new()
                }
            }
            Event::FiltersChanged { account_id } => {
                if self.viewer() == Some(*account_id) {
                    self.filters_changed()
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// A new status (`update`) or an edited one (`status.update`), to the
    /// streams whose timeline holds it (an edit is not a new conversation
    /// message, so the direct stream hears only of new ones).
    async fn posted(
        &self,
        s: &StatusEvent,
        memo: &EventMemo,
        event: &'static str,
    ) -> Vec<Outgoing> {
        let edited = event != "update";
        let service = &self.state.service;
        let viewer = self.viewer();
        let public = s.visibility == Visibility::Public && !s.is_reblog();
        let mut out = Vec::new();
        // Rendered for this viewer (home and direct streams) …
        let mut own: Option<Option<Arc<str>>> = None;
        for stream in &self.streams {
            let pass = match stream.kind {
                Kind::User => match viewer {
                    Some(v) => service.timeline_holds(StreamTimeline::Home(v), s.id).await,
                    None => false,
                },
                Kind::Public | Kind::PublicLocal => {
                    public
                        && service
                            .public_holds(memo, viewer, stream.media, s.id, s.account_id)
                            .await
                }
                Kind::Hashtag | Kind::HashtagLocal => {
                    let tag = stream.tag_key().unwrap_or_default();
                    public
                        && s.tags.contains(&tag)
                        && service
                            .tag_holds(memo, viewer, &tag, s.id, s.account_id)
                            .await
                }
                Kind::Direct => match viewer {
                    Some(v) if s.visibility == Visibility::Direct && !edited => {
                        (s.account_id == v || s.mentions.contains(&v))
                            && service.may_see_direct(v, s.id, s.account_id).await
                    }
                    _ => false,
                },
                Kind::PublicRemote | Kind::UserNotification => false,
            };
            if !pass {
                continue;
            }
            let payload = match stream.kind {
                // … public and hashtag streams send one rendering for all
                // (as Mastodon's do): a new public status has no per-viewer state.
                // A viewer with filters for public timelines gets its own
                // rendering (hidden, or with `filtered`); the others share one.
                Kind::Public | Kind::PublicLocal | Kind::Hashtag | Kind::HashtagLocal => {
                    let context = FilterContext::Public;
                    if self.state.service.has_filters(viewer, context).await {
                        self.render_filtered(viewer, s.id, context).await
                    } else {
                        memo.anonymous(|| self.render(None, s.id)).await
                    }
                }
                Kind::Direct => self.conversation_payload(s).await,
                _ => {
                    if own.is_none() {
                        own = Some(
                            self.render_filtered(viewer, s.id, FilterContext::Home)
                                .await,
                        );
                    }
                    own.clone().flatten()
                }
            };
            let Some(payload) = payload else {
                continue;
            };
            out.push(Outgoing {
                stream: stream.label(),
                event: if stream.kind == Kind::Direct {
                    "conversation"
                } else {
                    event
                },
                payload: payload.to_string(),
            });
        }
        out
    }

    /// The status as `viewer` sees it, as the client's JSON. The stream's
    /// check already applied the visibility rule, so the bundle is loaded
    /// directly (one query less).
    async fn render(&self, viewer: Option<Id>, id: Id) -> Option<Arc<str>> {
        match self.state.service.bundles(viewer, &[id]).await {
            Ok(b) => b
                .first()
                .map(|b| Arc::from(entities::to_json(&Status::new(&self.state.urls, b)))),
            Err(e) => {
                tracing::warn!(error = %e, "streaming: status not loaded; event skipped");
                None
            }
        }
    }

    /// The status for this viewer after its filters for `context`: None when
    /// one hides it there, else with its `filtered` matches.
    async fn render_filtered(
        &self,
        viewer: Option<Id>,
        id: Id,
        context: FilterContext,
    ) -> Option<Arc<str>> {
        let service = &self.state.service;
        let bundle = service
            .bundles(viewer, &[id])
            .await
            .ok()?
            .into_iter()
            .next()?;
        let shown = match service
            .apply_filters_one(viewer, context, bundle.clone())
            .await
        {
            Ok(shown) => shown?,
            Err(_) => bundle,
        };
        Some(Arc::from(entities::to_json(&Status::new(
            &self.state.urls,
            &shown,
        ))))
    }

    /// The `conversation` payload of a direct message for this viewer: the
    /// conversation as `GET /api/v1/conversations` lists it (its id, unread
    /// mark, the other participants); None when the viewer has none (a
    /// participant who mutes the author).
    async fn conversation_payload(&self, s: &StatusEvent) -> Option<Arc<str>> {
        let viewer = self.viewer()?;
        match self
            .state
            .service
            .conversation_of_status(viewer, s.id)
            .await
        {
            Ok(view) => {
                view.map(|v| Arc::from(entities::to_json(&Conversation::new(&self.state.urls, &v))))
            }
            Err(e) => {
                tracing::warn!(error = %e, "streaming: conversation not loaded; event skipped");
                None
            }
        }
    }

    async fn deleted(&self, s: &StatusEvent) -> Vec<Outgoing> {
        let viewer = self.viewer();
        let public = s.visibility == Visibility::Public && !s.is_reblog();
        let mut following: Option<bool> = None;
        let mut out = Vec::new();
        for stream in &self.streams {
            let pass = match stream.kind {
                Kind::User => match viewer {
                    Some(v) if v == s.account_id || s.mentions.contains(&v) => true,
                    Some(v) if s.visibility != Visibility::Direct => {
                        if following.is_none() {
                            following = Some(self.state.service.follows(v, s.account_id).await);
                        }
                        following == Some(true)
                    }
                    _ => false,
                },
                Kind::Public | Kind::PublicLocal => public,
                Kind::Hashtag | Kind::HashtagLocal => {
                    public && stream.tag_key().is_some_and(|t| s.tags.contains(&t))
                }
                Kind::Direct => {
                    s.visibility == Visibility::Direct
                        && viewer.is_some_and(|v| v == s.account_id || s.mentions.contains(&v))
                }
                Kind::PublicRemote | Kind::UserNotification => false,
            };
            if pass {
                out.push(Outgoing {
                    stream: stream.label(),
                    event: "delete",
                    payload: s.id.to_string(),
                });
            }
        }
        out
    }

    /// New notifications past the cursor, oldest first, as the REST API lists them.
    /// `filters_changed` (no payload) on the viewer's `user` streams.
    fn filters_changed(&self) -> Vec<Outgoing> {
        self.streams
            .iter()
            .filter(|s| s.kind == Kind::User)
            .map(|s| Outgoing {
                stream: s.label(),
                event: "filters_changed",
                payload: String::new(),
            })
            .collect()
    }

    async fn notified(&mut self) -> Vec<Outgoing> {
        let labels: Vec<Vec<String>> = self
            .streams
            .iter()
            .filter(|s| matches!(s.kind, Kind::User | Kind::UserNotification))
            .map(Stream::label)
            .collect();
        let (Some(me), Some(mut cursor)) = (self.viewer(), self.notification_cursor) else {
            return Vec::new();
        };
        if labels.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        // Rounds per poke are bounded; the rest wait for the next poke.
        let limits = self.state.service.limits();
        let per_fetch = limits.streaming_notifications_per_fetch;
        for _ in 0..limits.streaming_notification_rounds_max {
            let page = match self
                .state
                .service
                .notifications(
                    me,
                    &[],
                    &[],
                    None,
                    PageRequest {
                        min_id: Some(cursor),
                        limit: Some(per_fetch),
                        ..Default::default()
                    },
                )
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "streaming: notifications fetch failed");
                    break;
                }
            };
            let mut items = page.items;
            if items.is_empty() {
                break;
            }
            items.sort_by_key(|n| n.row.id);
            for n in &items {
                let payload = entities::to_json(&Notification::new(&self.state.urls, n));
                for label in &labels {
                    out.push(Outgoing {
                        stream: label.clone(),
                        event: "notification",
                        payload: payload.clone(),
                    });
                }
                cursor = cursor.max(n.row.id);
            }
            if items.len() < per_fetch as usize {
                break;
            }
        }
        self.notification_cursor = Some(cursor);
        out
    }
}

// ---------------------------------------------------------------- outbox

/// What a connection has queued for its client, bounded in bytes: a push
/// that would pass the budget fails, and the connection is then dropped.
struct Outbox<T> {
    tx: mpsc::UnboundedSender<(T, usize)>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    state: AppState,
}

impl<T> Outbox<T> {
    fn new(state: &AppState) -> (Outbox<T>, OutboxReceiver<T>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        (
            Outbox {
                tx,
                queued: queued.clone(),
                limit: state.service.limits().streaming_send_buffer_bytes,
                state: state.clone(),
            },
            OutboxReceiver {
                rx,
                queued,
                state: state.clone(),
            },
        )
    }

    /// Queues `item` of `size` bytes; false when over budget or the client is gone.
    fn push(&self, item: T, size: usize) -> bool {
        let now = self.queued.fetch_add(size, Ordering::AcqRel) + size;
        if now > self.limit {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            return false;
        }
        self.state
            .service
            .events
            .stats()
            .bytes_queued
            .fetch_add(size, Ordering::Relaxed);
        if self.tx.send((item, size)).is_err() {
            self.release(size);
            return false;
        }
        true
    }

    /// Control messages (ping, close) are tiny and always go.
    fn push_control(&self, item: T) -> bool {
        self.tx.send((item, 0)).is_ok()
    }

    fn release(&self, size: usize) {
        self.queued.fetch_sub(size, Ordering::AcqRel);
        self.state
            .service
            .events
            .stats()
            .bytes_queued
            .fetch_sub(size, Ordering::Relaxed);
    }

    async fn closed(&self) {
        self.tx.closed().await
    }
}

struct OutboxReceiver<T> {
    rx: mpsc::UnboundedReceiver<(T, usize)>,
    queued: Arc<AtomicUsize>,
    state: AppState,
}

impl<T> OutboxReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        let (item, size) = self.rx.recv().await?;
        self.queued.fetch_sub(size, Ordering::AcqRel);
        self.state
            .service
            .events
            .stats()
            .bytes_queued
            .fetch_sub(size, Ordering::Relaxed);
        Some(item)
    }
}

impl<T> Drop for OutboxReceiver<T> {
    fn drop(&mut self) {
        // Whatever is still queued is freed now: give its bytes back to the gauge.
        let left = self.queued.swap(0, Ordering::AcqRel);
        self.state
            .service
            .events
            .stats()
            .bytes_queued
            .fetch_sub(left, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------- request side

/// The client's address as the listener saw it.
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}

/// The connection an event stream is answered on: who is on it, and how to
/// end it when the server drops the stream (see `SseClient::end`).
pub struct SseClient {
    pub ip: IpAddr,
    close: Option<CloseConnection>,
    http2: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for SseClient {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClientAddr(ip) = ClientAddr::from_request_parts(parts, state).await?;
        Ok(SseClient {
            ip,
            close: parts.extensions.get::<CloseConnection>().cloned(),
            http2: parts.version >= axum::http::Version::HTTP_2,
        })
    }
}

impl SseClient {
    /// Ends the connection of a stream the server dropped (slow consumer,
    /// lag, revoked token), so its slot and queued bytes go at once. The
    /// body's error alone would end it only when hyper next polls the body,
    /// which it does only once the client takes bytes again: a stalled
    /// client kept its slot until the write timeout, and the two raced.
    /// HTTP/1.1 carries only this stream: it is cut now. HTTP/2 may carry
    /// the client's other requests: the body's error resets just this stream;
    /// if hyper still holds the body after `grace` (the client keeps this
    /// stream's window shut), the connection is told goodbye.
    async fn end(self, released: oneshot::Receiver<()>, grace: Duration) {
        let Some(close) = self.close else {
            return;
        };
        if !self.http2 {
            close.close();
        } else if tokio::time::timeout(grace, released).await.is_err() {
            close.goodbye();
        }
    }
}

/// The token: `Authorization: Bearer`, else `access_token=`, else (WebSocket)
/// `Sec-WebSocket-Protocol`. The second value says whether it came from the last.
fn token_of(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<(String, bool)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some((scheme, token)) = v.split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
                return Some((token.trim().to_owned(), false));
            }
        }
    }
    if let Some(t) = query.get("access_token").filter(|t| !t.is_empty()) {
        return Some((t.clone(), false));
    }
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or("").trim().to_owned())
        .filter(|t| !t.is_empty())
        .map(|t| (t, true))
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<(Principal, String, bool), Response> {
    let Some((token, from_protocol)) = token_of(headers, query) else {
        return Err(
            ApiError::new(StatusCode::UNAUTHORIZED, "Missing access token").into_response(),
        );
    };
    match state.service.authenticate(&token).await {
        Ok(p) => Ok((p, token, from_protocol)),
        Err(ServiceError::Unauthorized(_)) => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "Invalid access token").into_response())
        }
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

fn open_slot(state: &AppState, p: &Principal, ip: IpAddr) -> Result<Slot, Refusal> {
    state.service.events.open(p.account_id, ip)
}

fn refused(r: Refusal) -> Response {
    {
        let message = match r {
            Refusal::Total => "This server has too many streaming connections",
            Refusal::PerAccount => "Too many streaming connections for this account",
            Refusal::PerAddress => "Too many streaming connections from this address",
        };
        // Retry-After comes from the one policy, in the app's outermost layer.
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response()
    }
}

/// The SSE stream name for a path under `/api/v1/streaming/`.
fn sse_stream_name(path: &str) -> Option<&'static str> {
    Some(match path.trim_end_matches('/') {
        "user" => "user",
        "user/notification" => "user:notification",
        "public" => "public",
        "public/local" => "public:local",
        "public/remote" => "public:remote",
        "hashtag" => "hashtag",
        "hashtag/local" => "hashtag:local",
        "direct" => "direct",
        "list" => "list",
        _ => return None,
    })
}

pub async fn health() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "OK")
}

/// `GET /api/v1/streaming/<stream>`: Server-Sent Events.
pub async fn sse(
    State(state): State<AppState>,
    client: SseClient,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if path.trim_end_matches('/') == "health" {
        return health().await.into_response();
    }
    let Some(name) = sse_stream_name(&path) else {
        // Mastodon's streaming server: `RequestError('Unknown channel requested')`.
        return ApiError::new(StatusCode::BAD_REQUEST, "Unknown channel requested").into_response();
    };
    open_sse(state, client, name, query, headers).await
}

async fn open_sse(
    state: AppState,
    client: SseClient,
    name: &str,
    query: HashMap<String, String>,
    headers: HeaderMap,
) -> Response {
    let (principal, token, _) = match authenticate(&state, &headers, &query).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let stream = match parse_stream(
        name,
        query.get("tag").map(String::as_str),
        query.get("list").map(String::as_str),
        truthy(query.get("only_media").map(String::as_str)),
    ) {
        Ok(s) => s,
        Err(e) => return e.response(),
    };
    let sub = Subscriber {
        state: state.clone(),
        principal,
        credential: Credential::Token(token),
        streams: Vec::new(),
        notification_cursor: None,
    };
    start_sse(state, client, sub, stream).await
}

/// `GET /home/live`: the `user` stream of a browser signed in to the web UI,
/// as Server-Sent Events for its script (`web/enhance.js`). The log-in
/// session stands for a token: read-only, as the web app, re-checked like one.
pub async fn web_user_sse(
    state: AppState,
    client: SseClient,
    account_id: Id,
    session_secret: String,
) -> Response {
    let app_id = match state.service.web_app_id().await {
        Ok(id) => id,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (Ok(scopes), Ok(stream)) = (
        Scopes::parse("read"),
        parse_stream("user", None, None, false),
    ) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let principal = Principal {
        token_id: 0,
        app_id,
        app_name: "Web".into(),
        app_website: None,
        app_redirect_uris: Vec::new(),
        app_scopes: "read".into(),
        account_id: Some(account_id),
        scopes,
    };
    let sub = Subscriber {
        state: state.clone(),
        principal,
        credential: Credential::WebSession(session_secret),
        streams: Vec::new(),
        notification_cursor: None,
    };
    start_sse(state, client, sub, stream).await
}

/// Subscribes `sub` to `stream` and answers with the event stream.
async fn start_sse(
    state: AppState,
    client: SseClient,
    mut sub: Subscriber,
    stream: Stream,
) -> Response {
    if let Err(e) = sub.add(stream).await {
        return e.response();
    }
    let slot = match open_slot(&state, &sub.principal, client.ip) {
        Ok(s) => s,
        Err(r) => return refused(r),
    };
    let events = state.service.events.subscribe();
    let (outbox, receiver) = Outbox::<Bytes>::new(&state);
    let aborted = Arc::new(AtomicBool::new(false));
    // Resolves when hyper lets go of the body (and with it the slot).
    let (held, released) = oneshot::channel::<()>();
    let dropping = Dropping {
        aborted: aborted.clone(),
        client,
        released,
    };
    tokio::spawn(run_sse(sub, events, outbox, dropping));
    // The body: what the task queued, until it ends; an abort ends the
    // response with an error (on HTTP/2, a reset of this stream only). The
    // connection keeps its slot until hyper lets go of the body.
    let body = futures_util::stream::unfold(
        (receiver, aborted, slot, held),
        |(mut receiver, aborted, slot, held)| async move {
            let item = receiver.recv().await?;
            if aborted.load(Ordering::Acquire) {
                return Some((
                    Err(std::io::Error::other("stream dropped")),
                    (receiver, aborted, slot, held),
                ));
            }
            Some((
                Ok::<Bytes, std::io::Error>(item),
                (receiver, aborted, slot, held),
            ))
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "private, no-store")
        .header("x-accel-buffering", "no")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// How often a stream checks that its token still authenticates (first check after one period).
fn recheck_interval(state: &AppState) -> tokio::time::Interval {
    let period = Duration::from_millis(state.service.limits().streaming_token_recheck_ms.max(1));
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

/// Resolves once the node shuts down (at once if it already has, which a
/// stream that opened in the last moment would otherwise miss).
async fn shutting_down(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let down = rx.wait_for(|down| *down).await.is_ok();
    if !down {
        std::future::pending::<()>().await;
    }
}

struct Gauge<'a>(&'a AtomicUsize);
impl<'a> Gauge<'a> {
    fn up(a: &'a AtomicUsize) -> Gauge<'a> {
        a.fetch_add(1, Ordering::Relaxed);
        Gauge(a)
    }
}
impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn sse_frame(m: &Outgoing) -> Bytes {
    // A payload is JSON or an id: never a newline in it, so one `data:` line.
    Bytes::from(format!("event: {}\ndata: {}\n\n", m.event, m.payload))
}

/// What `run_sse` needs to drop its client: the body's abort flag, and the
/// connection (see `SseClient::end`).
struct Dropping {
    aborted: Arc<AtomicBool>,
    client: SseClient,
    released: oneshot::Receiver<()>,
}

async fn run_sse(
    mut sub: Subscriber,
    mut events: broadcast::Receiver<Arc<Published>>,
    outbox: Outbox<Bytes>,
    dropping: Dropping,
) {
    let state = sub.state.clone();
    let hub = state.service.events.clone();
    let stats = hub.stats();
    let _open = Gauge::up(&stats.connections_sse);
    let _subs = Gauge::up(&stats.subscriptions);
    let mut shutdown = hub.shutdown_signal();
    let mut heartbeat = tokio::time::interval(Duration::from_millis(
        state.service.limits().streaming_heartbeat_ms,
    ));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    // Mastodon opens with a comment, so proxies and clients see bytes at once.
    let mut recheck = recheck_interval(&state);
    let mut ok = outbox.push(Bytes::from_static(b":)\n"), 3);
    let mut reason = None;
    while ok {
        tokio::select! {
            () = outbox.closed() => break,
            _ = recheck.tick() => if !sub.still_authorized().await {
                reason = Some(DropReason::Revoked);
                break;
            },
            () = shutting_down(&mut shutdown) => { reason = Some(DropReason::Shutdown); break }
            _ = heartbeat.tick() => ok = outbox.push(Bytes::from_static(b":thump\n"), 7),
            received = events.recv() => match received {
                Ok(event) => {
                    for m in sub.messages_for(&event).await {
                        let frame = sse_frame(&m);
                        let size = frame.len();
                        if !outbox.push(frame, size) { ok = false; break; }
                        stats.messages_sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => { reason = Some(DropReason::Lagged); break }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
        if !ok && !outbox.tx.is_closed() {
            reason = Some(DropReason::SlowConsumer);
        }
    }
    if let Some(r) = reason {
        stats.count_drop(r);
        if r != DropReason::Shutdown {
            tracing::info!(reason = r.as_str(), "streaming: SSE client dropped");
            dropping.aborted.store(true, Ordering::Release);
            // Wakes the body so it sees the abort even with nothing else queued.
            outbox.push_control(Bytes::new());
            drop(outbox);
            let grace = Duration::from_millis(state.service.limits().streaming_write_timeout_ms);
            dropping.client.end(dropping.released, grace).await;
        }
    }
}

// ---------------------------------------------------------------- WebSocket

/// `GET /api/v1/streaming`: the WebSocket (or, without an upgrade and with
/// `?stream=`, the same stream as SSE).
pub async fn websocket(
    State(state): State<AppState>,
    client: SseClient,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(_) => {
            return match query.get("stream").cloned() {
                Some(name) => open_sse(state, client, &name, query, headers).await,
                None => {
                    ApiError::new(StatusCode::BAD_REQUEST, "Unknown stream type").into_response()
                }
            };
        }
    };
    let (principal, token, from_protocol) = match authenticate(&state, &headers, &query).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut sub = Subscriber {
        state: state.clone(),
        principal,
        credential: Credential::Token(token),
        streams: Vec::new(),
        notification_cursor: None,
    };
    // A stream named in the URL is subscribed at once.
    if let Some(name) = query.get("stream") {
        let stream = parse_stream(
            name,
            query.get("tag").map(String::as_str),
            query.get("list").map(String::as_str),
            truthy(query.get("only_media").map(String::as_str)),
        );
        match stream {
            Ok(s) => {
                if let Err(e) = sub.add(s).await {
                    return e.response();
                }
            }
            Err(e) => return e.response(),
        }
    }
    let slot = match open_slot(&state, &sub.principal, client.ip) {
        Ok(s) => s,
        Err(r) => return refused(r),
    };
    let limits = state.service.limits();
    let message_max = limits.streaming_client_message_max_bytes;
    // What is queued is bounded by our own budget: the writer sends one
    // message at a time and flushes it, so tungstenite's buffer holds at most
    // the frame being written.
    let mut upgrade = upgrade
        .max_message_size(message_max)
        .max_frame_size(message_max);
    if let (true, Credential::Token(token)) = (from_protocol, &sub.credential) {
        // The client offered its token as the subprotocol; it must be echoed.
        upgrade = upgrade.protocols([token.clone()]);
    }
    let events = state.service.events.subscribe();
    upgrade.on_upgrade(move |socket| run_ws(socket, sub, events, slot))
}

enum WsOut {
    Text(String),
    Ping,
    Close(u16, &'static str),
}

#[derive(serde::Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: Option<String>,
    stream: Option<Value>,
    tag: Option<String>,
    list: Option<String>,
}

fn first_string(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => a.first().and_then(|x| x.as_str()).map(str::to_owned),
        _ => None,
    }
}

async fn run_ws(
    socket: WebSocket,
    mut sub: Subscriber,
    mut events: broadcast::Receiver<Arc<Published>>,
    _slot: Slot,
) {
    let state = sub.state.clone();
    let hub = state.service.events.clone();
    let stats = hub.stats();
    let _open = Gauge::up(&stats.connections_ws);
    let limits = state.service.limits().clone();
    let subscriptions = &stats.subscriptions;
    subscriptions.fetch_add(sub.streams.len(), Ordering::Relaxed);

    let (mut sink, mut incoming) = socket.split();
    let (outbox, mut receiver) = Outbox::<WsOut>::new(&state);
    let closing = Arc::new(AtomicBool::new(false));
    let write_timeout = Duration::from_millis(limits.streaming_write_timeout_ms);
    let writer_closing = closing.clone();
    let mut writer = tokio::spawn(async move {
        while let Some(item) = receiver.recv().await {
            let message = match item {
                // Once closing, queued events are skipped: the close goes next.
                WsOut::Text(_) if writer_closing.load(Ordering::Acquire) => continue,
                WsOut::Text(t) => Message::Text(t.into()),
                WsOut::Ping => Message::Ping(Bytes::new()),
                WsOut::Close(code, reason) => {
                    let _ = tokio::time::timeout(
                        write_timeout,
                        sink.send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        }))),
                    )
                    .await;
                    return None;
                }
            };
            match tokio::time::timeout(write_timeout, sink.send(message)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => return Some(DropReason::WriteTimeout),
            }
        }
        None
    });

    let mut shutdown = hub.shutdown_signal();
    let mut ping = tokio::time::interval(Duration::from_millis(limits.streaming_heartbeat_ms));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let idle = Duration::from_millis(limits.streaming_idle_timeout_ms);
    let mut last_heard = Instant::now();
    let mut recheck = recheck_interval(&state);
    let mut reason: Option<DropReason> = None;
    let mut close: Option<(u16, &'static str)> = None;

    loop {
        tokio::select! {
            done = &mut writer => {
                if let Ok(Some(r)) = done { reason = Some(r); }
                break;
            }
            () = shutting_down(&mut shutdown) => {
                reason = Some(DropReason::Shutdown);
                close = Some((1001, "server shutting down"));
                break;
            }
            _ = recheck.tick() => if !sub.still_authorized().await {
                reason = Some(DropReason::Revoked);
                close = Some((1008, "access token revoked"));
                break;
            },
            _ = ping.tick() => {
                if last_heard.elapsed() >= idle {
                    reason = Some(DropReason::Idle);
                    close = Some((1000, "idle timeout"));
                    break;
                }
                outbox.push_control(WsOut::Ping);
            }
            message = incoming.next() => {
                let text = match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(_)) => { last_heard = Instant::now(); continue; }
                };
                last_heard = Instant::now();
                let before = sub.streams.len();
                if let Some(reply) = handle_client_message(&mut sub, &text, limits.streaming_subscriptions_per_connection_max).await {
                    let size = reply.len();
                    if !outbox.push(WsOut::Text(reply), size) {
                        reason = Some(DropReason::SlowConsumer);
                        close = Some((1008, "slow consumer"));
                        break;
                    }
                }
                let after = sub.streams.len();
                if after > before {
                    subscriptions.fetch_add(after - before, Ordering::Relaxed);
                } else {
                    subscriptions.fetch_sub(before - after, Ordering::Relaxed);
                }
            }
            received = events.recv() => match received {
                Ok(event) => {
                    let mut full = false;
                    for m in sub.messages_for(&event).await {
                        // An event without a payload (`filters_changed`) has no `payload` key, as Mastodon sends it.
                        let text = if m.payload.is_empty() {
                            json!({"stream": m.stream, "event": m.event})
                        } else {
                            json!({"stream": m.stream, "event": m.event, "payload": m.payload})
                        }
                        .to_string();
                        let size = text.len();
                        if !outbox.push(WsOut::Text(text), size) { full = true; break; }
                        stats.messages_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    if full {
                        reason = Some(DropReason::SlowConsumer);
                        close = Some((1008, "slow consumer"));
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    reason = Some(DropReason::Lagged);
                    close = Some((1013, "missed events; reconnect and refetch"));
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    subscriptions.fetch_sub(sub.streams.len(), Ordering::Relaxed);
    if let Some(r) = reason {
        stats.count_drop(r);
        if r != DropReason::Shutdown {
            tracing::info!(reason = r.as_str(), "streaming: WebSocket client dropped");
        }
    }
    if let Some((code, why)) = close {
        if !writer.is_finished() {
            closing.store(true, Ordering::Release);
            outbox.push_control(WsOut::Close(code, why));
            drop(outbox);
            // The writer sends the close frame (within the write timeout) and ends.
            let grace = Duration::from_millis(limits.streaming_close_grace_ms);
            let _ = tokio::time::timeout(write_timeout + grace, &mut writer).await;
        }
    }
    writer.abort();
}

/// Subscribe or unsubscribe; returns an error message for the client, if any.
async fn handle_client_message(
    sub: &mut Subscriber,
    text: &str,
    max_streams: usize,
) -> Option<String> {
    let Ok(message) = serde_json::from_str::<ClientMessage>(text) else {
        // Mastodon ignores what it cannot parse.
        return None;
    };
    let subscribe = match message.kind.as_deref() {
        Some("subscribe") => true,
        Some("unsubscribe") => false,
        _ => return None,
    };
    let name = first_string(&message.stream).unwrap_or_default();
    let stream = match parse_stream(
        &name,
        message.tag.as_deref(),
        message.list.as_deref(),
        false,
    ) {
        Ok(s) => s,
        Err(e) => return Some(e.ws_message()),
    };
    if !subscribe {
        sub.remove(&stream);
        return None;
    }
    if !sub.streams.contains(&stream) && sub.streams.len() >= max_streams {
        return Some(
            StreamError::new(StatusCode::TOO_MANY_REQUESTS, "Too many subscriptions").ws_message(),
        );
    }
    match sub.add(stream).await {
        Ok(_) => None,
        Err(e) => Some(e.ws_message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names() {
        let s = parse_stream("hashtag", Some("#Rust"), None, false)
            .ok()
            .unwrap();
        assert_eq!(s.label(), vec!["hashtag".to_owned(), "Rust".to_owned()]);
        assert_eq!(s.tag_key().as_deref(), Some("rust"));
        assert_eq!(
            parse_stream("public", None, None, true)
                .ok()
                .unwrap()
                .label(),
            vec!["public:media".to_owned()]
        );
        assert_eq!(
            parse_stream("nope", None, None, false)
                .err()
                .unwrap()
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_stream("hashtag", Some(" "), None, false)
                .err()
                .unwrap()
                .message,
            "No tag for stream provided"
        );
        assert_eq!(
            sse_stream_name("user/notification"),
            Some("user:notification")
        );
        assert_eq!(sse_stream_name("users"), None);
    }
}
