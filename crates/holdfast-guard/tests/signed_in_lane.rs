//! The signed-in lane, over real sockets: a connection from an address where
//! the guard served a signed-in user lately is served on the lane's runtime;
//! any other connection on the runtime the listener runs on.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use holdfast_config::Limits;
use holdfast_guard::listener::{serve, ListenerConfig};
use holdfast_guard::offenders::{OffenderBounds, Offenders};
use holdfast_guard::Refusals;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The name of the thread that answers, as the body.
async fn whose_thread() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

/// One HTTP/1.1 GET from `source` (any 127.0.0.0/8 address is local on Linux); the body.
async fn get_from(server: SocketAddr, source: IpAddr) -> String {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    stream
        .write_all(b"GET /who HTTP/1.1\r\nHost: lane.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap()
}

#[test]
fn connections_from_addresses_with_signed_in_users_are_served_on_the_lane() {
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("shared-lane")
        .enable_all()
        .build()
        .unwrap();
    let lane = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("signed-in-lane")
        .enable_all()
        .build()
        .unwrap();
    let limits = Limits::default();
    let offenders = Arc::new(Offenders::new(OffenderBounds::from_limits(&limits)));
    let signed_in: IpAddr = "127.0.0.2".parse().unwrap();
    let stranger: IpAddr = "127.0.0.3".parse().unwrap();
    offenders.signed_in_served(signed_in);

    let mut config = ListenerConfig::from_limits(&limits);
    config.offenders = Some(offenders);
    config.signed_in_lane = Some(lane.handle().clone());
    let refusals = Arc::new(Refusals::default());
    let (bodies, on_lane) = main.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().route("/who", get(whose_thread));
        let serving = tokio::spawn(serve(listener, app, config, refusals.clone(), async {
            let _ = stopped.await;
        }));
        let bodies = (
            get_from(server, signed_in).await,
            get_from(server, stranger).await,
            get_from(server, signed_in).await,
        );
        let _ = stop.send(());
        serving.await.unwrap();
        (bodies, refusals.lane_connections())
    });
    lane.shutdown_background();
    // The accept loop runs in a task of `main`, so the shared lane is its worker.
    assert_eq!(
        bodies,
        (
            "signed-in-lane".to_owned(),
            "shared-lane".to_owned(),
            "signed-in-lane".to_owned()
        )
    );
    assert_eq!(on_lane, 2);
}
