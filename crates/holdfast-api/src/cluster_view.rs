//! What the status page says about the rest of a cluster: every node's
//! `/readyz` and the database as Patroni's REST API sees it (`GET /cluster`).
//! Fetched in parallel, each within `status_fetch_timeout_ms`, and reused for
//! `status_cluster_cache_ms`, so a status page polled during an incident
//! costs the peers little and never hangs on a dead one. Only plain
//! `http://` (what `holdfast cluster up` and a private network use).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, Request, Uri};
use holdfast_config::{ClusterMembers, Limits};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, Serialize)]
pub struct NodeHealth {
    /// `host:port` (never credentials or paths).
    pub address: String,
    /// What its `/readyz` said (`ready`, `degraded`, `not ready`), or `unreachable`.
    pub status: String,
    /// Why, when it is not `ready`.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DbMember {
    pub name: String,
    /// Patroni's role: `leader`, `sync_standby`, `replica`, ...
    pub role: String,
    /// Patroni's state: `running`, `streaming`, `stopped`, `starting`, ...
    pub state: String,
    pub address: String,
    /// Replication lag in bytes as Patroni reports it (a number, or its word for unknown).
    pub lag: Option<Value>,
    pub timeline: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DatabaseView {
    /// The Patroni REST API that answered (`host:port`), if any did.
    pub answered_by: Option<String>,
    /// The member Patroni names leader and running, if any.
    pub primary: Option<String>,
    pub members: Vec<DbMember>,
    /// Patroni REST APIs that did not answer, with why.
    pub unreachable: Vec<NodeHealth>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClusterView {
    pub nodes: Vec<NodeHealth>,
    /// None when no Patroni URL is configured.
    pub database: Option<DatabaseView>,
    /// How old this view is.
    pub age_ms: u64,
}

pub struct ClusterWatch {
    members: ClusterMembers,
    timeout: Duration,
    cache_for: Duration,
    body_max: usize,
    cached: Mutex<Option<(Instant, ClusterView)>>,
    /// One fetch at a time: concurrent status requests wait for it and share it.
    fetching: tokio::sync::Mutex<()>,
}

impl ClusterWatch {
    /// None on a single node (no `[cluster]` table).
    pub fn new(members: &ClusterMembers, limits: &Limits) -> Option<ClusterWatch> {
        if members.nodes.is_empty() && members.patroni.is_empty() {
            return None;
        }
        Some(ClusterWatch {
            members: members.clone(),
            timeout: Duration::from_millis(limits.status_fetch_timeout_ms),
            cache_for: Duration::from_millis(limits.status_cluster_cache_ms),
            body_max: limits.status_fetch_body_max_bytes,
            cached: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn fresh(&self) -> Option<ClusterView> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.cache_for)
            .map(|(at, view)| ClusterView {
                age_ms: at.elapsed().as_millis() as u64,
                ..view.clone()
            })
    }

    pub async fn view(&self) -> ClusterView {
        if let Some(view) = self.fresh() {
            return view;
        }
        let _one = self.fetching.lock().await;
        if let Some(view) = self.fresh() {
            return view;
        }
        let nodes = futures_util::future::join_all(
            self.members.nodes.iter().map(|url| self.node_health(url)),
        );
        let database = async {
            if self.members.patroni.is_empty() {
                None
            } else {
                Some(self.database().await)
            }
        };
        let (nodes, database) = tokio::join!(nodes, database);
        let view = ClusterView {
            nodes,
            database,
            age_ms: 0,
        };
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), view.clone()));
        view
    }

    async fn node_health(&self, base: &str) -> NodeHealth {
        let address = address_of(base);
        match get_json(
            &format!("{}/readyz", base.trim_end_matches('/')),
            self.timeout,
            self.body_max,
        )
        .await
        {
            Ok((_, body)) => NodeHealth {
                address,
                status: body
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned(),
                reason: body
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Err(why) => NodeHealth {
                address,
                status: "unreachable".into(),
                reason: Some(why),
            },
        }
    }

    /// Every Patroni REST API at once; the first `/cluster` that answers is the view.
    async fn database(&self) -> DatabaseView {
        let answers =
            futures_util::future::join_all(self.members.patroni.iter().map(|url| async move {
                let got = get_json(
                    &format!("{}/cluster", url.trim_end_matches('/')),
                    self.timeout,
                    self.body_max,
                )
                .await;
                (address_of(url), got)
            }))
            .await;
        let mut view = DatabaseView {
            answered_by: None,
            primary: None,
            members: Vec::new(),
            unreachable: Vec::new(),
        };
        for (address, got) in answers {
            match got {
                Ok((200, body)) if view.answered_by.is_none() => {
                    view.members = members_of(&body);
                    view.primary = view
                        .members
                        .iter()
                        .find(|m| m.role == "leader" && m.state == "running")
                        .map(|m| m.name.clone());
                    view.answered_by = Some(address);
                }
                Ok((200, _)) => {}
                Ok((status, _)) => view.unreachable.push(NodeHealth {
                    address,
                    status: "unreachable".into(),
                    reason: Some(format!("GET /cluster answered {status}")),
                }),
                Err(why) => view.unreachable.push(NodeHealth {
                    address,
                    status: "unreachable".into(),
                    reason: Some(why),
                }),
            }
        }
        view
    }
}

fn members_of(cluster: &Value) -> Vec<DbMember> {
    let text = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    cluster
        .get("members")
        .and_then(Value::as_array)
        .map(|members| {
            members
                .iter()
                .map(|m| DbMember {
                    name: text(m, "name"),
                    role: text(m, "role"),
                    state: text(m, "state"),
                    address: format!(
                        "{}:{}",
                        text(m, "host"),
                        m.get("port").and_then(Value::as_u64).unwrap_or(0)
                    ),
                    lag: m.get("lag").cloned(),
                    timeline: m.get("timeline").and_then(Value::as_u64),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `host:port` of a URL, for display: never its credentials or path.
fn address_of(url: &str) -> String {
    url.parse::<Uri>()
        .ok()
        .and_then(|u| {
            let host = u.host()?.to_owned();
            Some(match u.port_u16() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "(invalid URL)".into())
}

/// One GET over plain HTTP/1.1, bounded in time and size; the body as JSON.
async fn get_json(url: &str, timeout: Duration, body_max: usize) -> Result<(u16, Value), String> {
    let fetch = async {
        let uri: Uri = url.parse().map_err(|e| format!("invalid URL: {e}"))?;
        let host = uri.host().ok_or("no host in the URL")?.to_owned();
        let port = uri.port_u16().unwrap_or(holdfast_config::HTTP_DEFAULT_PORT);
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let request = Request::get(path)
            .header(header::HOST, address_of(url))
            .header(header::ACCEPT, "application/json")
            .body(Empty::<axum::body::Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), body_max)
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        let json = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
        Ok::<_, String>((status, json))
    };
    match tokio::time::timeout(timeout, fetch).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_never_show_credentials_or_paths() {
        assert_eq!(
            address_of("http://u:secret@10.0.0.1:8008/x?y"),
            "10.0.0.1:8008"
        );
        assert_eq!(address_of("http://db1"), "db1");
    }

    #[test]
    fn patroni_members_are_read() {
        let body = serde_json::json!({"members": [
            {"name": "pg1", "role": "leader", "state": "running", "host": "127.0.0.1", "port": 5432, "timeline": 3},
            {"name": "pg2", "role": "sync_standby", "state": "streaming", "host": "127.0.0.1", "port": 5433, "lag": 0}
        ]});
        let m = members_of(&body);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].address, "127.0.0.1:5432");
        assert_eq!(m[1].lag, Some(serde_json::json!(0)));
    }
}
