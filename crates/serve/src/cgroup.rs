//! The server's memory cgroup, read to tell a render worker killed for memory from one killed
//! for another reason: both die of SIGKILL, but only the OOM killer adds to the cgroup's
//! `oom_kill` count. The worker is forked from the server, so it is in the server's cgroup.
//!
//! cgroup v2 (Debian 12, systemd's unified hierarchy) counts it in `memory.events`, v1 in
//! `memory.oom_control`; both count the processes of the cgroup and of those below it, killed
//! by any OOM killer (the cgroup's limit or the whole machine's memory), on a line
//! `oom_kill N`. Only reads: under systemd's `ProtectControlGroups=` the tree is read-only and
//! `/proc/self/cgroup` stays visible with `ProcSubset=pid`.

use std::fs;
use std::path::{Path, PathBuf};

/// Where cgroup hierarchies are mounted.
const ROOT: &str = "/sys/fs/cgroup";

/// A limit this large is no limit (v1 writes "unlimited" as about 2^63, rounded to pages).
const UNLIMITED: u64 = 1 << 62;

/// The files of one memory cgroup that say how many OOM kills it saw, and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemoryCgroup {
    /// `memory.events` (v2) or `memory.oom_control` (v1).
    events: PathBuf,
    /// `memory.max` (v2) or `memory.limit_in_bytes` (v1).
    limit: PathBuf,
}

impl MemoryCgroup {
    /// This process's memory cgroup, if it has one this process can read.
    pub(crate) fn of_this_process() -> Option<MemoryCgroup> {
        let text = fs::read_to_string("/proc/self/cgroup").ok()?;
        MemoryCgroup::find(&text, Path::new(ROOT))
    }

    /// The memory cgroup named in `proc_cgroup` (the text of `/proc/PID/cgroup`) under the
    /// mount point `root`: the first candidate whose counting file exists.
    fn find(proc_cgroup: &str, root: &Path) -> Option<MemoryCgroup> {
        let mut candidates = Vec::new();
        for line in proc_cgroup.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(id), Some(controllers), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let path = path.trim_start_matches('/');
            if id == "0" && controllers.is_empty() {
                // v2: mounted at the root, or at "unified" beside v1 hierarchies.
                for mount in [root.to_path_buf(), root.join("unified")] {
                    let dir = mount.join(path);
                    candidates.push(MemoryCgroup {
                        events: dir.join("memory.events"),
                        limit: dir.join("memory.max"),
                    });
                }
            } else if controllers.split(',').any(|c| c == "memory") {
                // v1: mounted under its controllers' names ("memory", or "cpu,memory").
                for mount in [root.join("memory"), root.join(controllers)] {
                    let dir = mount.join(path);
                    candidates.push(MemoryCgroup {
                        events: dir.join("memory.oom_control"),
                        limit: dir.join("memory.limit_in_bytes"),
                    });
                }
            }
        }
        candidates.into_iter().find(|c| c.events.is_file())
    }

    /// How many processes of the cgroup the OOM killer has killed so far.
    pub(crate) fn oom_kills(&self) -> Option<u64> {
        let text = fs::read_to_string(&self.events).ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
    }

    /// The cgroup's memory limit in bytes, if it has one.
    pub(crate) fn limit(&self) -> Option<u64> {
        let text = fs::read_to_string(&self.limit).ok()?;
        text.trim().parse().ok().filter(|&n| n < UNLIMITED)
    }

    /// The file [`MemoryCgroup::oom_kills`] reads.
    pub(crate) fn events_file(&self) -> &Path {
        &self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cgroup tree under the temporary directory, removed on drop.
    struct Tree(PathBuf);

    impl Tree {
        fn new(tag: &str) -> Tree {
            let dir =
                std::env::temp_dir().join(format!("forkblog-cgroup-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            Tree(dir)
        }

        fn file(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn v2_memory_events_and_max() {
        let tree = Tree::new("v2");
        let unit = "system.slice/forkblog-https.service";
        tree.file(
            &format!("{unit}/memory.events"),
            "low 0\nhigh 12\nmax 40\noom 2\noom_kill 2\noom_group_kill 0\n",
        );
        tree.file(&format!("{unit}/memory.max"), "268435456\n");
        let found = MemoryCgroup::find(&format!("0::/{unit}\n"), &tree.0).expect("found");
        assert_eq!(found.oom_kills(), Some(2));
        assert_eq!(found.limit(), Some(256 << 20));
        tree.file(&format!("{unit}/memory.max"), "max\n");
        assert_eq!(found.limit(), None);
    }

    #[test]
    fn v1_memory_oom_control_beside_other_hierarchies() {
        let tree = Tree::new("v1");
        tree.file(
            "memory/process_api/abc/memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n",
        );
        tree.file(
            "memory/process_api/abc/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        // No memory controller in the unified hierarchy here: its line finds nothing.
        let text = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
        let found = MemoryCgroup::find(text, &tree.0).expect("found");
        assert_eq!(found.oom_kills(), Some(7));
        assert_eq!(found.limit(), None, "v1's unlimited");
    }

    #[test]
    fn no_memory_cgroup_is_none() {
        let tree = Tree::new("none");
        tree.file("cpu/x/cpu.shares", "1024\n");
        assert_eq!(MemoryCgroup::find("1:cpu:/x\n0::/\n", &tree.0), None);
        assert_eq!(MemoryCgroup::find("", &tree.0), None);
        assert_eq!(MemoryCgroup::find("garbage", &tree.0), None);
    }
}
