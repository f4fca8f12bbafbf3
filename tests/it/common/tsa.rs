//! A throwaway RFC 3161 time-stamp authority: a CA and a TSA certificate (critical
//! timeStamping EKU) made with `openssl`, and a loopback HTTP server that answers each
//! POSTed query with `openssl ts -reply`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::tempdir;

pub fn sh(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running TSA: its folder (CA and TSA certificates, keys, tsa.cnf) and its URL.
pub struct Tsa {
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl Tsa {
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }
}

pub fn make_pki(dir: &Path) {
    sh(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-sha256",
            "-subj",
            "/CN=Evidence Test Root CA/O=Throwaway",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "subjectKeyIdentifier=hash",
        ],
    );
    sh(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            "/CN=Evidence Test TSA/O=Throwaway",
        ],
    );
    std::fs::write(dir.join("tsa_ext.cnf"), "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n\
extendedKeyUsage = critical, timeStamping\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n").unwrap();
    sh(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tsa.crt",
            "-days",
            "825",
            "-sha256",
            "-extfile",
            "tsa_ext.cnf",
        ],
    );
    std::fs::write(dir.join("tsa.cnf"), format!("[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\ndir = {}\nserial = $dir/tsaserial\n\
crypto_device = builtin\nsigner_cert = $dir/tsa.crt\ncerts = $dir/ca.crt\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\n\
default_policy = 1.3.6.1.4.1.99999.1.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = yes\n\
ess_cert_id_chain = no\ness_cert_id_alg = sha256\n", dir.display())).unwrap();
    std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
}

/// Starts a TSA on 127.0.0.1: each POSTed query goes through `openssl ts -reply`.
/// The server thread lives as long as the test process (it only ever answers loopback).
pub fn start_tsa() -> Tsa {
    let dir = tempdir();
    make_pki(dir.path());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let d = dir.path().to_path_buf();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut c) = conn else { continue };
            let mut buf = vec![];
            let mut tmp = [0u8; 4096];
            let (head_end, len) = loop {
                let k = c.read(&mut tmp).unwrap_or(0);
                if k == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&tmp[..k]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    break (i + 4, len);
                }
            };
            if head_end == 0 {
                continue;
            }
            while buf.len() < head_end + len {
                let k = c.read(&mut tmp).unwrap_or(0);
                if k == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..k]);
            }
            let q = d.join(format!("q{n}.tsq"));
            let r = d.join(format!("r{n}.tsr"));
            std::fs::write(&q, &buf[head_end..]).unwrap();
            let ok = Command::new("openssl")
                .args([
                    "ts",
                    "-reply",
                    "-config",
                    "tsa.cnf",
                    "-section",
                    "tsa_config1",
                    "-queryfile",
                ])
                .arg(&q)
                .arg("-out")
                .arg(&r)
                .current_dir(&d)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            let body = if ok {
                std::fs::read(&r).unwrap()
            } else {
                vec![]
            };
            let status = if ok {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let _ = write!(
                c,
                "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = c.write_all(&body);
        }
    });
    Tsa { dir, url }
}
