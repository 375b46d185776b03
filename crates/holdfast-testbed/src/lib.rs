//! Test beds that drive a real holdfast from the outside, over real sockets.
//!
//! `cluster` starts and stops a whole local cluster (etcd, PostgreSQL under
//! Patroni, holdfast nodes, HAProxy) behind `holdfast cluster`.
//! `ports` picks the loopback ports they listen on.
//! `relay` carries a database member's links so a drill can cut it off.
//! `siege` is the load + attack generator behind `holdfast siege`. All of its
//! traffic goes to loopback (127.0.0.0/8 or ::1); anything else is refused
//! before a single packet leaves.

pub mod bench;
pub mod cluster;
pub mod drill;
pub mod ports;
pub mod relay;
pub mod siege;
