//! `samizdat serve`, the real binary, on a loopback port chosen by the kernel.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use super::{http_get, samizdat};

/// A running `samizdat serve --listen 127.0.0.1:0`; killed and waited for when dropped.
pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub base: String,
}

impl Serve {
    pub fn start(archive: &Path) -> Serve {
        Serve::start_args(archive, &["serve", "--listen", "127.0.0.1:0"])
    }

    /// Any serving command (`witness serve --listen 127.0.0.1:0`) that prints
    /// `... on http://ADDR/` on stderr.
    pub fn start_args(archive: &Path, args: &[&str]) -> Serve {
        let mut child = samizdat(archive)
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn samizdat serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // Owned before anything can panic, so the process is killed on every path.
        let mut serve = Serve {
            child,
            base: String::new(),
        };
        serve.base = loop {
            let line = lines
                .next()
                .expect("serve exited before saying where it listens")
                .unwrap();
            if let Some(rest) = line.split(" on http://").nth(1) {
                break format!("http://{}", rest.split('/').next().unwrap());
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        serve
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// GET `path`: status and body.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let (status, _, body) = http_get(&self.url(path)).unwrap();
        (status, body)
    }

    /// Peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = s
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kb * 1024
    }

    /// SIGKILL, as a crash or a power cut would stop it.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "serve exited (a panic?)"
        );
    }

    /// SIGINT (what `serve` stops on, gracefully), then wait; killed after 5 s.
    pub fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
