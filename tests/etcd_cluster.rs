//! A real etcd cluster for the tests: Debian's `etcd` (package `etcd-server`) members on
//! 127.0.0.1 with ports chosen at run time, data in a temp dir, and `etcdctl` (package
//! `etcd-client`) to seed, read and break it. Members are killed, stopped (SIGSTOP) and
//! restarted for real; everything is killed when the cluster is dropped.

use std::fs;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::free_port;
use crate::util::TempDir;

pub struct Member {
    pub name: String,
    pub client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

pub struct Cluster {
    pub members: Vec<Member>,
    pub dir: TempDir,
    /// `ETCDCTL_USER` for etcdctl once auth is on.
    root: Option<String>,
    /// Clients speak TLS (tests/certs/etcd-server.pem) and must show tests/certs/client.pem.
    tls: bool,
}

/// A file of tests/certs.
pub fn cert(name: &str) -> String {
    format!("{}/tests/certs/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Whether `etcd` and `etcdctl` are here. Without them a test prints a loud `SKIPPED`
/// line and passes, as the oidc tests do, unless `CI` is set: then it fails, since
/// `.ci/run` installs both (packaging/tools.sh).
pub fn available(test: &str) -> bool {
    let found = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    if found("etcd") && found("etcdctl") {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(
        !ci,
        "{test}: etcd or etcdctl is missing (apt-get install etcd-server etcd-client)"
    );
    eprintln!(
        "SKIPPED: {test}: etcd or etcdctl is missing (apt-get install etcd-server etcd-client)"
    );
    false
}

impl Cluster {
    /// Starts `n` members and waits until every one is healthy.
    pub fn start(n: usize) -> Cluster {
        Cluster::start_with(n, false)
    }

    /// `start`, with clients on TLS and client certificates required.
    pub fn start_tls(n: usize) -> Cluster {
        Cluster::start_with(n, true)
    }

    fn start_with(n: usize, tls: bool) -> Cluster {
        let dir = TempDir::new();
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client_port: free_port(),
                peer_port: free_port(),
                child: None,
            })
            .collect();
        let mut cluster = Cluster {
            members,
            dir,
            root: None,
            tls,
        };
        for i in 0..n {
            cluster.spawn(i);
        }
        cluster.wait_healthy();
        cluster
    }

    fn initial_cluster(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn spawn(&mut self, i: usize) {
        let initial = self.initial_cluster();
        let data = self.dir.path(&format!("data-{i}"));
        let log = fs::File::create(self.dir.path(&format!("etcd-{i}.log"))).unwrap();
        let scheme = self.scheme();
        let m = &mut self.members[i];
        let client = format!("{scheme}://127.0.0.1:{}", m.client_port);
        let peer = format!("http://127.0.0.1:{}", m.peer_port);
        let mut cmd = Command::new("etcd");
        if self.tls {
            cmd.args(["--cert-file", &cert("etcd-server.pem")])
                .args(["--key-file", &cert("etcd-server.key")])
                .args([
                    "--client-cert-auth",
                    "--trusted-ca-file",
                    &cert("etcd-ca.pem"),
                ]);
        }
        let child = cmd
            .args(["--name", &m.name, "--data-dir"])
            .arg(&data)
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args([
                "--initial-cluster",
                &initial,
                "--initial-cluster-state",
                "new",
            ])
            .args(["--initial-cluster-token", "sfrefresh-test"])
            // Fast elections, so a dead leader is replaced within a second.
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args([
                "--logger",
                "zap",
                "--log-outputs",
                "stderr",
                "--log-level",
                "warn",
            ])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("etcd from Debian's etcd-server package (make test installs it)");
        m.child = Some(child);
    }

    /// The endpoints of every member, as an etcd:// URL's host part.
    pub fn hosts(&self) -> String {
        self.hosts_of(&(0..self.members.len()).collect::<Vec<_>>())
    }

    pub fn hosts_of(&self, which: &[usize]) -> String {
        which
            .iter()
            .map(|i| format!("127.0.0.1:{}", self.members[*i].client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// `etcd://every member/KEY` (`etcds://` for a TLS cluster).
    pub fn url(&self, key: &str) -> String {
        let scheme = if self.tls { "etcds" } else { "etcd" };
        format!("{scheme}://{}{key}", self.hosts())
    }

    fn live(&self) -> Vec<usize> {
        (0..self.members.len())
            .filter(|i| self.members[*i].child.is_some())
            .collect()
    }

    /// etcdctl against the live members, as root once auth is on.
    pub fn ctl(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let endpoints = self
            .live()
            .iter()
            .map(|i| {
                format!(
                    "{}://127.0.0.1:{}",
                    self.scheme(),
                    self.members[*i].client_port
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let mut cmd = Command::new("etcdctl");
        if self.tls {
            cmd.args([
                "--cacert",
                &cert("etcd-ca.pem"),
                "--cert",
                &cert("client.pem"),
            ])
            .args(["--key", &cert("client.key")]);
        }
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={endpoints}"))
            .args(["--command-timeout=5s", "--dial-timeout=2s"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(root) = &self.root {
            cmd.env("ETCDCTL_USER", root);
        }
        let mut child = cmd
            .spawn()
            .expect("etcdctl from Debian's etcd-client package");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Puts `value` at `key` (read from stdin, as a token would be).
    pub fn put(&self, key: &str, value: &str) {
        let (ok, _, err) = self.ctl(&["put", key], Some(value));
        assert!(ok, "etcdctl put {key}: {err}");
    }

    /// The value at `key`, if any.
    pub fn get(&self, key: &str) -> Option<String> {
        let (ok, out, err) = self.ctl(&["get", key, "--print-value-only"], None);
        assert!(ok, "etcdctl get {key}: {err}");
        // etcdctl adds one newline after the value.
        out.strip_suffix('\n').map(str::to_string)
    }

    /// Revokes the lease `key` was put with: the key goes, as when a lease runs out.
    pub fn revoke_lease_of(&self, key: &str) {
        let (ok, out, err) = self.ctl(&["get", key, "-w", "json"], None);
        assert!(ok, "etcdctl get {key}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let lease = format!(
            "{:x}",
            v["kvs"][0]["lease"].as_i64().expect("a key with a lease")
        );
        let (ok, _, err) = self.ctl(&["lease", "revoke", &lease], None);
        assert!(ok, "etcdctl lease revoke {lease}: {err}");
    }

    /// Every key under `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let (ok, out, err) = self.ctl(&["get", prefix, "--prefix", "--keys-only"], None);
        assert!(ok, "etcdctl get --prefix {prefix}: {err}");
        out.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The revision of the whole store: one more for every write.
    pub fn revision(&self) -> i64 {
        let (ok, out, err) = self.ctl(&["get", "/", "--prefix", "--keys-only", "-w", "json"], None);
        assert!(ok, "etcdctl get: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        v["header"]["revision"].as_i64().unwrap()
    }

    /// The index of the member that leads now.
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (ok, out, _) = self.ctl(&["endpoint", "status", "-w", "json"], None);
            if ok && let Ok(Value::Array(statuses)) = serde_json::from_str::<Value>(&out) {
                for s in &statuses {
                    let id = &s["Status"]["header"]["member_id"];
                    if id == &s["Status"]["leader"] {
                        let endpoint = s["Endpoint"].as_str().unwrap_or_default();
                        if let Some(i) = self
                            .members
                            .iter()
                            .position(|m| endpoint.ends_with(&format!(":{}", m.client_port)))
                        {
                            return i;
                        }
                    }
                }
            }
            assert!(Instant::now() < deadline, "no leader: {out}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self, i: usize) -> u32 {
        self.members[i].child.as_ref().unwrap().id()
    }

    /// Starts a killed member again, on its old data.
    pub fn restart(&mut self, i: usize) {
        assert!(self.members[i].child.is_none());
        self.spawn(i);
    }

    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (ok, _, err) = self.ctl(&["endpoint", "health"], None);
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the etcd cluster did not become healthy: {err}\n{}",
                self.logs()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        (0..self.members.len())
            .map(|i| {
                fs::read_to_string(self.dir.path(&format!("etcd-{i}.log"))).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Turns auth on: root (password `rootpw`), and `acme` (password `acme-pw`) with
    /// readwrite on the prefix `/sfr/acme` only.
    pub fn enable_auth(&mut self) {
        for args in [
            &["user", "add", "root:rootpw"][..],
            &["role", "add", "root"],
            &["user", "grant-role", "root", "root"],
            &["user", "add", "acme:acme-pw"],
            &["role", "add", "acme"],
            &[
                "role",
                "grant-permission",
                "acme",
                "--prefix=true",
                "readwrite",
                "/sfr/acme",
            ],
            &["user", "grant-role", "acme", "acme"],
            &["auth", "enable"],
        ] {
            let (ok, _, err) = self.ctl(args, None);
            assert!(ok, "etcdctl {args:?}: {err}");
        }
        self.root = Some("root:rootpw".into());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(mut child) = m.child.take() {
                // A stopped member must be continued to die promptly.
                let _ = Command::new("kill")
                    .args(["-CONT", &child.id().to_string()])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Sends `signal` (`STOP`, `CONT`, `KILL`) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} {pid}");
}
