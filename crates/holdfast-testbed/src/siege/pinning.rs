//! Keeping the attackers off the server's cores: with both on the same cores,
//! a flood measures how much CPU siege itself takes from the server as much
//! as how well the server defends. `--server-cpus` pins the server siege
//! starts, `--siege-cpus` pins every thread of siege (legitimate users and
//! attackers alike), with `sched_setaffinity`; `--legit-cpus` then moves the
//! legitimate users' one thread (e.g. beside the server), so that a saturated
//! attacker core cannot delay their requests.

/// Parses "0", "1,3" or "0-2" into CPU numbers.
pub fn parse_cpus(list: &str) -> Result<Vec<usize>, String> {
    let bad = || format!("bad CPU list {list:?} (expected e.g. 0, 1,3 or 0-2)");
    let mut cpus = Vec::new();
    for part in list.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                );
                if a > b || b >= libc::CPU_SETSIZE as usize {
                    return Err(bad());
                }
                cpus.extend(a..=b);
            }
            None => {
                let n: usize = part.trim().parse().map_err(|_| bad())?;
                if n >= libc::CPU_SETSIZE as usize {
                    return Err(bad());
                }
                cpus.push(n);
            }
        }
    }
    if cpus.is_empty() {
        return Err(bad());
    }
    Ok(cpus)
}

pub fn cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET only write into it,
    // and parse_cpus keeps every number below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        set
    }
}

/// Pins one thread (or process) id; 0 is the calling thread.
pub fn pin(tid: libc::pid_t, cpus: &[usize]) -> Result<(), String> {
    let set = cpu_set(cpus);
    // SAFETY: the set lives for the call; the kernel only reads it.
    let rc = unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(format!(
            "sched_setaffinity({tid}, {cpus:?}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Pins every thread of this process, and so the threads it starts later.
pub fn pin_this_process(cpus: &[usize]) -> Result<(), String> {
    let tasks = std::fs::read_dir("/proc/self/task")
        .map_err(|e| format!("cannot list this process' threads: {e}"))?;
    for task in tasks.flatten() {
        if let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) {
            pin(tid, cpus)?;
        }
    }
    Ok(())
}

/// The CPUs each thread of process `pid` may run on (distinct lists), from /proc.
pub fn threads_cpus(pid: u32) -> Vec<String> {
    let mut lists: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|v| v.trim().to_owned())
        })
        .collect();
    lists.sort();
    lists.dedup();
    lists
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpus("0").unwrap(), vec![0]);
        assert_eq!(parse_cpus("1,3").unwrap(), vec![1, 3]);
        assert_eq!(parse_cpus("0-2").unwrap(), vec![0, 1, 2]);
        assert!(parse_cpus("").is_err());
        assert!(parse_cpus("2-1").is_err());
        assert!(parse_cpus("x").is_err());
        assert!(parse_cpus("100000").is_err());
    }
}
