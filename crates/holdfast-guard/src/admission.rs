//! Adaptive admission control with priority classes.
//!
//! How many requests run at once is a limit that adapts to latency, in the
//! manner of Netflix's gradient limiter: while requests take about as long
//! as they usually do, the limit grows; when they start taking longer (the
//! sign of queueing inside the server or the database), it shrinks. Above
//! the limit, requests wait in one bounded queue per class; a freed slot
//! goes to the highest class waiting. A request that cannot be admitted
//! within its class' deadline, or finds its queue full, is refused at once:
//! it never waits unboundedly.
//!
//! Once half the limit is in use, one principal (a signed-in account or app)
//! may hold at most a share of the limit, admitted and waiting together
//! (`principal_share`, at least `principal_slots_min`); past it, its next
//! request is refused at once. A stolen token's burst (Mastodon's 300 per
//! token arrive within a second) would otherwise fill the interactive class'
//! slots and waiting room ahead of every real user while the limit is still
//! small, at start-up above all. Below half, anyone may take a free slot: a
//! client that opens with ten requests at once is not refused by a quiet server.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Priority classes, highest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// A signed-in person doing ordinary things.
    Interactive = 0,
    /// Reads without a token.
    Anonymous = 1,
    /// Search, deep pagination, sign-up, password log-in.
    Expensive = 2,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Interactive, Class::Anonymous, Class::Expensive];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Interactive => "interactive",
            Class::Anonymous => "anonymous",
            Class::Expensive => "expensive",
        }
    }
}

#[derive(Clone, Debug)]
pub struct AdmissionConfig {
    pub initial: u32,
    pub min: u32,
    pub max: u32,
    pub queue_max: [usize; 3],
    pub wait: [Duration; 3],
    /// The gradient rule's tuning (see `adapt`): weight of each latency in the
    /// long-term one, tolerated slowdown, and how far the limit moves per request.
    pub long_rtt_weight: f64,
    pub tolerance: f64,
    pub smoothing: f64,
    /// The share of the limit expensive work may hold (at least one slot).
    pub expensive_share: f64,
    /// The share of the limit one principal may hold, admitted and waiting
    /// together, and the least it may always hold.
    pub principal_share: f64,
    pub principal_slots_min: u32,
}

impl AdmissionConfig {
    pub fn from_limits(l: &holdfast_config::Limits) -> AdmissionConfig {
        AdmissionConfig {
            initial: l.admission_initial_concurrency,
            min: l.admission_min_concurrency,
            max: l.admission_max_concurrency,
            queue_max: l.admission_queue_max,
            wait: l.admission_wait_ms.map(Duration::from_millis),
            long_rtt_weight: l.admission_long_rtt_weight,
            tolerance: l.admission_latency_tolerance,
            smoothing: l.admission_smoothing,
            expensive_share: l.admission_expensive_share,
            principal_share: l.admission_principal_share,
            principal_slots_min: l.admission_principal_slots_min,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    QueueFull,
    Timeout,
    /// The principal already held its share of the limit.
    PrincipalShare,
}

/// Whose request it is, for the share one principal may hold: an opaque key
/// (the guard's account or token key); `None` for anonymous work.
pub type Principal = Option<u128>;

struct Waiter {
    tx: oneshot::Sender<Permit>,
    principal: Principal,
    /// To find it again when it gives up.
    id: u64,
}

struct State {
    limit: f64,
    in_flight: u32,
    /// Expensive work in flight; capped at `expensive_share` of the limit so it
    /// can never take every slot from interactive users.
    expensive_in_flight: u32,
    queues: [VecDeque<Waiter>; 3],
    /// Slots held and places waited in, per principal (absent when zero, so
    /// it never holds more keys than there are requests in flight or queued).
    held: HashMap<u128, u32>,
    next_waiter_id: u64,
    /// Smoothed long-term latency: what "normal" looks like.
    long_rtt_s: f64,
}

impl State {
    fn hold(&mut self, principal: Principal) {
        if let Some(key) = principal {
            *self.held.entry(key).or_insert(0) += 1;
        }
    }

    fn let_go(&mut self, principal: Principal) {
        if let Some(key) = principal {
            if let std::collections::hash_map::Entry::Occupied(mut e) = self.held.entry(key) {
                *e.get_mut() -= 1;
                if *e.get() == 0 {
                    e.remove();
                }
            }
        }
    }
}

pub struct Admission {
    config: AdmissionConfig,
    state: Mutex<State>,
}

/// A slot in the server. Dropping it frees the slot for the next waiter.
pub struct Permit {
    admission: Arc<Admission>,
    started: Instant,
    class: Class,
    principal: Principal,
}

impl Admission {
    pub fn new(config: AdmissionConfig) -> Arc<Admission> {
        let limit = config.initial.clamp(config.min.max(1), config.max.max(1)) as f64;
        Arc::new(Admission {
            state: Mutex::new(State {
                limit,
                in_flight: 0,
                expensive_in_flight: 0,
                queues: Default::default(),
                held: HashMap::new(),
                next_waiter_id: 0,
                long_rtt_s: 0.0,
            }),
            config,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn limit(&self) -> u32 {
        self.lock().limit as u32
    }

    pub fn in_flight(&self) -> u32 {
        self.lock().in_flight
    }

    pub fn queued(&self) -> [usize; 3] {
        let s = self.lock();
        [s.queues[0].len(), s.queues[1].len(), s.queues[2].len()]
    }

    /// The most one principal may hold now, admitted and waiting together.
    fn principal_cap(&self, s: &State) -> u32 {
        ((s.limit * self.config.principal_share).floor() as u32)
            .max(self.config.principal_slots_min.max(1))
    }

    /// Admits now, or after waiting in the class' queue, or refuses.
    pub async fn acquire(
        self: &Arc<Self>,
        class: Class,
        principal: Principal,
    ) -> Result<Permit, Refusal> {
        let rx = {
            let mut s = self.lock();
            if let Some(key) = principal {
                let busy = s.in_flight as f64 >= (s.limit / 2.0).floor();
                if busy && s.held.get(&key).copied().unwrap_or(0) >= self.principal_cap(&s) {
                    return Err(Refusal::PrincipalShare);
                }
            }
            let higher_waiting = s.queues[..=class as usize].iter().any(|q| !q.is_empty());
            if room(&s, class, self.config.expensive_share) && !higher_waiting {
                admit(&mut s, class);
                s.hold(principal);
                return Ok(Permit {
                    admission: self.clone(),
                    started: Instant::now(),
                    class,
                    principal,
                });
            }
            let queue = &mut s.queues[class as usize];
            if queue.len() >= self.config.queue_max[class as usize] {
                // Waiters that gave up still hold places until a release pops them.
                let mut gave_up = Vec::new();
                queue.retain(|w| {
                    let closed = w.tx.is_closed();
                    if closed {
                        gave_up.push(w.principal);
                    }
                    !closed
                });
                let full = queue.len() >= self.config.queue_max[class as usize];
                for p in gave_up {
                    s.let_go(p);
                }
                if full {
                    return Err(Refusal::QueueFull);
                }
            }
            let (tx, rx) = oneshot::channel();
            let id = s.next_waiter_id;
            s.next_waiter_id += 1;
            s.queues[class as usize].push_back(Waiter { tx, principal, id });
            s.hold(principal);
            (rx, id)
        };
        let (mut rx, id) = rx;
        match tokio::time::timeout(self.config.wait[class as usize], &mut rx).await {
            Ok(Ok(mut permit)) => {
                permit.started = Instant::now();
                Ok(permit)
            }
            // The sender is only dropped without sending if the waiter was discarded.
            Ok(Err(_)) => Err(Refusal::Timeout),
            Err(_) => {
                // Gave up: leave the queue now, so the place is free and no
                // longer counts against the principal.
                let left = {
                    let mut s = self.lock();
                    let queue = &mut s.queues[class as usize];
                    let left = queue
                        .iter()
                        .position(|w| w.id == id)
                        .map(|at| queue.remove(at));
                    if left.is_some() {
                        s.let_go(principal);
                    }
                    left.is_some()
                };
                // Not in the queue any more: a slot was handed over just now.
                // (Outside the lock: a permit dropped here releases itself.)
                match (left, rx.try_recv()) {
                    (false, Ok(mut permit)) => {
                        permit.started = Instant::now();
                        Ok(permit)
                    }
                    _ => Err(Refusal::Timeout),
                }
            }
        }
    }

    fn release(self: &Arc<Self>, latency: Duration, class: Class, principal: Principal) {
        let mut s = self.lock();
        // Expensive work is slow by nature (argon2, search); its latency says
        // nothing about overload and would only shrink the limit for everyone.
        if class != Class::Expensive {
            self.adapt(&mut s, latency.as_secs_f64());
        }
        unadmit(&mut s, class);
        s.let_go(principal);
        // Hand freed slots to waiters, highest class with room first.
        while let Some(next) = Class::ALL.into_iter().find(|c| {
            !s.queues[*c as usize].is_empty() && room(&s, *c, self.config.expensive_share)
        }) {
            let waiter = s.queues[next as usize]
                .pop_front()
                .expect("the queue was not empty");
            // Its place in the queue becomes its slot: what it holds is unchanged.
            admit(&mut s, next);
            let permit = Permit {
                admission: self.clone(),
                started: Instant::now(),
                class: next,
                principal: waiter.principal,
            };
            if let Err(unsent) = waiter.tx.send(permit) {
                // That waiter gave up (deadline passed). Take the slot back without
                // running Permit::drop, which would re-enter this lock.
                std::mem::forget(unsent);
                unadmit(&mut s, next);
                s.let_go(waiter.principal);
            }
        }
    }

    /// Gradient rule: limit × clamp(tolerance × normal latency / this latency, ½, 1),
    /// plus headroom of √limit so it can grow while latency stays normal.
    fn adapt(&self, s: &mut State, rtt_s: f64) {
        if rtt_s <= 0.0 {
            return;
        }
        if s.long_rtt_s == 0.0 {
            s.long_rtt_s = rtt_s;
        }
        let (weight, smoothing) = (self.config.long_rtt_weight, self.config.smoothing);
        s.long_rtt_s = s.long_rtt_s * (1.0 - weight) + rtt_s * weight;
        let gradient = (self.config.tolerance * s.long_rtt_s / rtt_s).clamp(0.5, 1.0);
        let headroom = s.limit.sqrt();
        let target = s.limit * gradient + headroom;
        let next = s.limit * (1.0 - smoothing) + target * smoothing;
        s.limit = next.clamp(self.config.min.max(1) as f64, self.config.max.max(1) as f64);
    }
}

fn room(s: &State, class: Class, expensive_share: f64) -> bool {
    let under_limit = (s.in_flight as f64) < s.limit.floor();
    under_limit
        && (class != Class::Expensive
            || s.expensive_in_flight < (s.limit * expensive_share).floor().max(1.0) as u32)
}

fn admit(s: &mut State, class: Class) {
    s.in_flight += 1;
    if class == Class::Expensive {
        s.expensive_in_flight += 1;
    }
}

fn unadmit(s: &mut State, class: Class) {
    s.in_flight = s.in_flight.saturating_sub(1);
    if class == Class::Expensive {
        s.expensive_in_flight = s.expensive_in_flight.saturating_sub(1);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let admission = self.admission.clone();
        admission.release(self.started.elapsed(), self.class, self.principal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(limit: u32) -> AdmissionConfig {
        AdmissionConfig {
            initial: limit,
            min: limit,
            max: limit,
            queue_max: [8, 8, 8],
            wait: [
                Duration::from_secs(5),
                Duration::from_secs(5),
                Duration::from_millis(50),
            ],
            ..AdmissionConfig::from_limits(&holdfast_config::Limits::default())
        }
    }

    #[tokio::test]
    async fn freed_slots_go_to_the_highest_class_first() {
        let a = Admission::new(config(1));
        let held = a.acquire(Class::Interactive, None).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for class in [Class::Expensive, Class::Anonymous, Class::Interactive] {
            let (a, order) = (a.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                if let Ok(p) = a.acquire(class, None).await {
                    order.lock().unwrap().push(class);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    drop(p);
                }
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Hold the only slot past the expensive class' 50 ms deadline.
        tokio::time::sleep(Duration::from_millis(80)).await;
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        // Expensive waited only 50 ms and was shed; the others ran in priority order.
        assert_eq!(
            *order.lock().unwrap(),
            vec![Class::Interactive, Class::Anonymous]
        );
        assert_eq!(a.in_flight(), 0);
    }

    #[tokio::test]
    async fn full_queue_refuses_at_once() {
        let mut c = config(1);
        c.queue_max = [0, 0, 0];
        let a = Admission::new(c);
        let _held = a.acquire(Class::Interactive, None).await.unwrap();
        let started = Instant::now();
        assert_eq!(
            a.acquire(Class::Anonymous, None).await.err(),
            Some(Refusal::QueueFull)
        );
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn expensive_work_never_takes_every_slot() {
        let mut c = config(8);
        c.wait = [Duration::from_millis(50); 3];
        let a = Admission::new(c);
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(a.acquire(Class::Expensive, None).await.unwrap());
        }
        assert_eq!(
            a.acquire(Class::Expensive, None).await.err(),
            Some(Refusal::Timeout),
            "a quarter of 8 is 2"
        );
        for _ in 0..6 {
            held.push(a.acquire(Class::Interactive, None).await.unwrap());
        }
        assert_eq!(a.in_flight(), 8);
        drop(held);
        assert_eq!(a.in_flight(), 0);
    }

    #[test]
    fn limit_shrinks_when_latency_rises_and_grows_when_it_is_normal() {
        let a = Admission::new(AdmissionConfig {
            initial: 50,
            min: 4,
            max: 200,
            ..config(1)
        });
        {
            let mut s = a.lock();
            for _ in 0..200 {
                a.adapt(&mut s, 0.010);
            }
        }
        let grown = a.limit();
        assert!(grown > 50, "normal latency lets the limit grow: {grown}");
        {
            let mut s = a.lock();
            for _ in 0..20 {
                a.adapt(&mut s, 0.500);
            }
        }
        assert!(
            a.limit() < grown / 2,
            "50x latency shrinks the limit: {} vs {grown}",
            a.limit()
        );
    }

    #[tokio::test]
    async fn one_principal_holds_at_most_its_share() {
        let mut c = config(16);
        c.principal_share = 0.25;
        c.principal_slots_min = 2;
        let a = Admission::new(c);
        let (stolen, other) = (Some(1), Some(2));
        let mut held: Vec<Permit> = Vec::new();
        // A quiet server: it may take free slots up to half the limit.
        for _ in 0..8 {
            held.push(a.acquire(Class::Interactive, stolen).await.unwrap());
        }
        let started = Instant::now();
        assert_eq!(
            a.acquire(Class::Interactive, stolen).await.err(),
            Some(Refusal::PrincipalShare),
            "half the slots are in use, and it holds more than a quarter of 16"
        );
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "refused at once"
        );
        // Everyone else still gets in, up to the limit.
        for _ in 0..4 {
            held.push(a.acquire(Class::Interactive, other).await.unwrap());
        }
        assert_eq!(
            a.acquire(Class::Interactive, other).await.err(),
            Some(Refusal::PrincipalShare),
            "busy: a quarter of 16 is 4"
        );
        for _ in 0..4 {
            held.push(a.acquire(Class::Anonymous, None).await.unwrap());
        }
        assert_eq!(a.in_flight(), 16);
        // Its own requests done down to its share: it may have one more.
        for _ in 0..5 {
            drop(held.remove(0));
        }
        held.push(a.acquire(Class::Interactive, stolen).await.unwrap());
        drop(held);
        assert_eq!(a.in_flight(), 0);
        assert!(a.lock().held.is_empty(), "nothing is held by anyone");
    }

    #[tokio::test]
    async fn a_burst_leaves_the_waiting_room_to_others_and_waits_that_end_give_places_back() {
        let mut c = config(2);
        c.principal_share = 0.25;
        c.principal_slots_min = 2;
        c.queue_max = [8, 8, 8];
        c.wait = [Duration::from_millis(100); 3];
        let a = Admission::new(c);
        let _full = [
            a.acquire(Class::Anonymous, None).await.unwrap(),
            a.acquire(Class::Anonymous, None).await.unwrap(),
        ];
        // The burst: 300 requests at once, of which 2 may wait; the rest are
        // refused at once and leave the waiting room to a real user.
        let burst: Vec<_> = (0..300)
            .map(|_| {
                let a = a.clone();
                tokio::spawn(async move { a.acquire(Class::Interactive, Some(1)).await.err() })
            })
            .collect();
        let user = {
            let a = a.clone();
            tokio::spawn(async move { a.acquire(Class::Interactive, Some(2)).await.err() })
        };
        let mut outcomes = HashMap::new();
        for t in burst {
            *outcomes.entry(t.await.unwrap()).or_insert(0) += 1;
        }
        assert_eq!(outcomes.get(&Some(Refusal::PrincipalShare)), Some(&298));
        assert_eq!(outcomes.get(&Some(Refusal::Timeout)), Some(&2));
        assert_eq!(
            user.await.unwrap(),
            Some(Refusal::Timeout),
            "it waited its turn"
        );
        // Waits that ended gave their places back at once.
        assert_eq!(a.queued(), [0, 0, 0]);
        assert!(a.lock().held.is_empty());
        let more = a.acquire(Class::Interactive, Some(1));
        let more = tokio::time::timeout(Duration::from_millis(20), more).await;
        assert!(
            more.is_err(),
            "it may wait again (and does: the slots are full)"
        );
    }
}
