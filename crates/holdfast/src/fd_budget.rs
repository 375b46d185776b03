//! Every connection is a file descriptor. Raise the soft limit to the hard
//! limit at start, and keep the connection cap below what is left after the
//! database and log files, so running out of descriptors shows up as the
//! connection cap holding, not as `accept` failing.

/// Descriptors kept back for the database, logs and the runtime.
const FDS_RESERVED: u64 = 256;

pub fn fit_connections(wanted: usize) -> usize {
    let available = raise_nofile_limit();
    let fit = available.saturating_sub(FDS_RESERVED).max(16) as usize;
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
            return 1024;
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
    1024
}
