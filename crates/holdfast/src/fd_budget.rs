//! Every connection is a file descriptor. Raise the soft limit to the hard
//! limit at start, and keep the connection cap below what is left after the
//! database and log files, so running out of descriptors shows up as the
//! connection cap holding, not as `accept` failing.

use holdfast_config::Limits;

/// The connection cap that fits in the open-files limit, keeping
/// `runtime_reserved_fds` back (never below `fitted_connections_min`).
pub fn fit_connections(wanted: usize, limits: &Limits) -> usize {
    let available = raise_nofile_limit();
    let fit = (available.saturating_sub(limits.runtime_reserved_fds) as usize)
        .max(limits.fitted_connections_min);
    if fit < wanted {
        tracing::warn!(
            wanted,
            fit,
            "connection cap lowered to fit the open-files limit (raise `ulimit -n` for more)"
        );
    }
    wanted.min(fit)
}

#[cfg(unix)]
fn raise_nofile_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return ASSUMED_NOFILE;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur as u64
    }
}

#[cfg(not(unix))]
fn raise_nofile_limit() -> u64 {
    ASSUMED_NOFILE
}

// fact: the usual soft open-files limit, assumed when it cannot be read
const ASSUMED_NOFILE: u64 = 1024;
