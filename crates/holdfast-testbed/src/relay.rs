//! `holdfast cluster relay`: the TCP relays that let a drill cut one
//! database member off the network without root-only firewall rules.
//!
//! `cluster up` starts one relay process per PostgreSQL member. It owns every
//! link of that member: PostgreSQL's and Patroni's REST port as everyone else
//! reaches them (the member's advertised ports are the relay's; the servers
//! listen on inner ports), and the member's Patroni's way to each etcd member.
//! So cutting the relay is a partition of that member from the nodes, the
//! other members and etcd, all on loopback.
//!
//! Control by signal, from the drill: SIGUSR1 cuts, SIGUSR2 heals. A cut
//! behaves like a dropped network, not like a refusing host: relayed
//! connections stop carrying bytes either way but stay open, and new
//! connections are accepted and then never answered. Healing closes those
//! frozen connections (as timeouts on both sides would have) and relays
//! normally again. A cut heals by itself after `CUT_MAX_S`, so a drill that
//! died mid-fault does not leave a member cut off.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// Connections one relay carries (or holds frozen) at once; more are closed.
const CONNECTIONS_MAX: usize = 2_048;
/// Opening the connection to the target.
const TARGET_CONNECT_TIMEOUT_MS: u64 = 2_000;
/// Longest cut: healed by itself after this.
const CUT_MAX_S: u64 = 120;
/// Most links in one relay.
const LINKS_MAX: usize = 16;

#[derive(Args, Debug, Clone)]
pub struct RelayArgs {
    /// The cluster's directory (recorded so the drill can tell the relay is the cluster's).
    #[arg(long)]
    pub dir: std::path::PathBuf,
    /// LISTEN=TARGET, both loopback socket addresses; repeated.
    #[arg(long = "link", required = true)]
    pub links: Vec<String>,
}

/// One link: where the relay listens, and where it relays to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub listen: SocketAddr,
    pub target: SocketAddr,
}

impl Link {
    pub fn parse(s: &str) -> Result<Link, String> {
        let (listen, target) = s
            .split_once('=')
            .ok_or_else(|| format!("--link {s:?}: expected LISTEN=TARGET"))?;
        let addr = |a: &str| -> Result<SocketAddr, String> {
            let addr: SocketAddr = a.parse().map_err(|e| format!("--link {s:?}: {a}: {e}"))?;
            if !addr.ip().is_loopback() {
                return Err(format!("--link {s:?}: {a} is not a loopback address"));
            }
            Ok(addr)
        };
        Ok(Link {
            listen: addr(listen)?,
            target: addr(target)?,
        })
    }

    pub fn arg(&self) -> String {
        format!("{}={}", self.listen, self.target)
    }
}

pub async fn run(args: RelayArgs) -> Result<(), String> {
    let links: Vec<Link> = args
        .links
        .iter()
        .map(|l| Link::parse(l))
        .collect::<Result<_, _>>()?;
    if links.len() > LINKS_MAX {
        return Err(format!("at most {LINKS_MAX} links per relay"));
    }
    let (cut_tx, cut_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    for link in &links {
        let listener = TcpListener::bind(link.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", link.listen))?;
        tokio::spawn(accept_loop(
            listener,
            link.target,
            cut_rx.clone(),
            slots.clone(),
        ));
    }
    eprintln!("relaying {} links", links.len());
    control(cut_tx).await
}

/// Follows the drill's signals until SIGTERM or SIGINT.
async fn control(cut: watch::Sender<bool>) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
    let mut cut_signal = listen(SignalKind::user_defined1())?;
    let mut heal_signal = listen(SignalKind::user_defined2())?;
    let mut term = listen(SignalKind::terminate())?;
    let mut int = listen(SignalKind::interrupt())?;
    loop {
        let auto_heal = async {
            if *cut.borrow() {
                tokio::time::sleep(Duration::from_secs(CUT_MAX_S)).await
            } else {
                std::future::pending::<()>().await
            }
        };
        tokio::select! {
            _ = cut_signal.recv() => {
                eprintln!("cut");
                cut.send_replace(true);
            }
            _ = heal_signal.recv() => {
                eprintln!("healed");
                cut.send_replace(false);
            }
            _ = auto_heal => {
                eprintln!("healed by itself after {CUT_MAX_S} s");
                cut.send_replace(false);
            }
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    cut: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors, most likely: let some connections end.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue; // over the cap: closed at once
        };
        let cut = cut.clone();
        tokio::spawn(async move {
            relay_one(client, target, cut).await;
            drop(slot);
        });
    }
}

/// Carries one connection until either side closes it, or holds it frozen
/// while the relay is cut and closes it when healed.
async fn relay_one(mut client: TcpStream, target: SocketAddr, mut cut: watch::Receiver<bool>) {
    let already_cut = *cut.borrow_and_update();
    if already_cut {
        let _ = cut.wait_for(|c| !*c).await;
        return;
    }
    let connect = TcpStream::connect(target);
    let Ok(Ok(mut server)) =
        tokio::time::timeout(Duration::from_millis(TARGET_CONNECT_TIMEOUT_MS), connect).await
    else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut healed = cut.clone();
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = async { let _ = cut.wait_for(|c| *c).await; } => {
            // Cut: nothing more crosses, both sockets stay open until healed.
            let _ = healed.wait_for(|c| !*c).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn links_parse_and_only_loopback_is_accepted() {
        let l = Link::parse("127.0.0.1:5000=127.0.0.1:6000").unwrap();
        assert_eq!(l.listen.port(), 5000);
        assert_eq!(l.target.port(), 6000);
        assert_eq!(Link::parse(&l.arg()), Ok(l));
        assert!(Link::parse("127.0.0.1:5000").is_err());
        assert!(Link::parse("127.0.0.1:5000=10.0.0.1:6000").is_err());
        assert!(Link::parse("0.0.0.0:5000=127.0.0.1:6000").is_err());
    }

    /// An echo server behind a relay: bytes cross; cut, they stop (the
    /// connection stays open, a new one is accepted and never answered);
    /// healed, a new connection carries bytes again.
    #[tokio::test]
    async fn a_cut_relay_is_silent_and_heals() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..8 {
                let Ok((mut s, _)) = echo.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = s.read(&mut buf).await {
                        if s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = front.local_addr().unwrap();
        let (cut_tx, cut_rx) = watch::channel(false);
        tokio::spawn(accept_loop(
            front,
            target,
            cut_rx,
            Arc::new(Semaphore::new(8)),
        ));

        let round_trip = |mut s: TcpStream| async move {
            s.write_all(b"ping").await.ok()?;
            let mut buf = [0u8; 4];
            tokio::time::timeout(Duration::from_millis(300), s.read_exact(&mut buf))
                .await
                .ok()?
                .ok()?;
            Some((s, buf))
        };
        let first = TcpStream::connect(listen).await.unwrap();
        let (first, buf) = round_trip(first).await.expect("relayed");
        assert_eq!(&buf, b"ping");

        cut_tx.send_replace(true);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            round_trip(first).await.is_none(),
            "a cut relay carried bytes"
        );
        let during = TcpStream::connect(listen)
            .await
            .expect("accepted while cut");
        assert!(
            round_trip(during).await.is_none(),
            "a new connection was answered while cut"
        );

        cut_tx.send_replace(false);
        let after = TcpStream::connect(listen).await.unwrap();
        assert_eq!(round_trip(after).await.expect("healed").1, *b"ping");
    }
}
