//! One token family shared by many hosts in etcd (issue 19, docs/etcd.md): the real
//! binary against a real 3-member etcd cluster and the fake Salesforce, with holders and
//! members killed, stopped and restarted.

use std::fs;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::etcd_cluster::{Cluster, available, cert, signal};
use crate::fake_salesforce::FakeSalesforce;
use crate::util::*;

const KEY: &str = "/sfr/acme";

fn server(rotate: bool, delay: Duration) -> FakeSalesforce {
    FakeSalesforce::builder()
        .client_id(CLIENT_ID)
        .refresh_token("5Aep861.refresh-r0")
        .instance_url("https://acme.my.salesforce.com")
        .rotate(rotate)
        .processing_delay(delay)
        .start()
}

/// A cluster of three with the test token at KEY.
fn seeded() -> Cluster {
    let cluster = Cluster::start(3);
    cluster.put(KEY, TOKEN);
    cluster
}

/// `sfrefresh [extra] LOCATION` against `server`, as one "host" would run it.
fn run_at(server: &FakeSalesforce, location: &str, extra: &[&str]) -> std::process::Command {
    let mut cmd = sfrefresh();
    cmd.args(["--client-id", CLIENT_ID, "--token-url", &server.token_url()]);
    cmd.args(extra);
    cmd.arg(location);
    cmd
}

fn spawn(mut cmd: std::process::Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> Out {
    child.wait_with_output().unwrap().into()
}

fn stored(cluster: &Cluster) -> serde_json::Value {
    value_at(cluster, KEY)
}

/// The token JSON at `key`, which must exist.
fn value_at(cluster: &Cluster, key: &str) -> serde_json::Value {
    serde_json::from_str(&cluster.get(key).expect("the key exists")).unwrap()
}

/// Waits until `check` holds, up to `limit`.
fn wait_for(limit: Duration, what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_refresh_reads_and_saves_the_key_and_keeps_every_field() {
    if !available("a_refresh_reads_and_saves_the_key_and_keeps_every_field") {
        return;
    }
    let cluster = Cluster::start(3);
    cluster.put(
        KEY,
        &TOKEN.replace("\"scope\"", "\"x_note\": \"kept\",\n  \"scope\""),
    );
    let sf = server(true, Duration::ZERO);
    let out = run(&mut run_at(&sf, &cluster.url(KEY), &[]));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "",
            "sfrefresh: refreshed token for https://acme.my.salesforce.com (refresh token rotated)\n"
        )
    );
    let doc = stored(&cluster);
    assert_eq!(
        doc["refresh_token"],
        sf.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(
        doc["access_token"],
        sf.current_access_token().unwrap().as_str()
    );
    assert!(doc["signature"].is_string());
    assert_eq!(doc["x_note"], "kept");
    // The value is the token file sfrefresh would write: pretty, ending in a newline.
    let text = cluster.get(KEY).unwrap();
    assert!(text.starts_with("{\n  \"access_token\""), "{text}");
    // The lock went with the run's lease: only the family is left under KEY.
    assert_eq!(cluster.keys(KEY), [KEY]);
    assert_eq!(sf.refresh_tokens_presented(), ["5Aep861.refresh-r0"]);
}

/// Requirement 1: many hosts, one family, each talking to the members in its own
/// order: one request per refresh token, a chain without a replay, the last token kept.
#[test]
fn six_hosts_refresh_one_family_one_after_another() {
    if !available("six_hosts_refresh_one_family_one_after_another") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::from_millis(40));
    let orders = [[0, 1, 2], [1, 2, 0], [2, 0, 1]];
    let children: Vec<Child> = (0..6)
        .map(|i| {
            let url = format!("etcd://{}{KEY}", cluster.hosts_of(&orders[i % 3]));
            spawn(run_at(&sf, &url, &["-q", "--timeout", "60"]))
        })
        .collect();
    for child in children {
        let out = finish(child);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    }
    assert!(!sf.family_revoked(), "{:?}", sf.refresh_tokens_presented());
    let chain = sf.refresh_token_chain();
    assert_eq!(chain.len(), 7, "{chain:?}");
    assert_eq!(sf.refresh_tokens_presented(), chain[..6].to_vec());
    assert_eq!(stored(&cluster)["refresh_token"], chain[6].as_str());
}

/// Requirement 1 with `--if-older-than`: eight hosts find one stale family at once;
/// one refreshes, the seven others find the token it saved fresh and send nothing.
#[test]
fn eight_hosts_on_one_stale_family_send_one_request() {
    if !available("eight_hosts_on_one_stale_family_send_one_request") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::from_millis(200));
    let children: Vec<Child> = (0..8)
        .map(|_| {
            spawn(run_at(
                &sf,
                &cluster.url(KEY),
                &["--if-older-than", "1h", "--timeout", "30"],
            ))
        })
        .collect();
    let outs: Vec<Out> = children.into_iter().map(finish).collect();
    let refreshed = outs
        .iter()
        .filter(|o| o.stderr.contains("refreshed token"))
        .count();
    assert_eq!(
        refreshed,
        1,
        "{:?}",
        outs.iter().map(|o| &o.stderr).collect::<Vec<_>>()
    );
    for out in &outs {
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert_eq!(sf.refresh_tokens_presented(), ["5Aep861.refresh-r0"]);
}

/// Requirement 2: readers take no lock. With the lock held by someone else, a fresh
/// token is printed, passed to exec and shown by status at once; a due one waits.
#[test]
fn readers_of_a_fresh_token_take_no_lock() {
    if !available("readers_of_a_fresh_token_take_no_lock") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::ZERO);
    // Make the token fresh, then hold the lock as a stuck host would (no lease).
    assert_eq!(run(&mut run_at(&sf, &cluster.url(KEY), &["-q"])).code, 0);
    cluster.put(&format!("{KEY}/.lock"), "other-host:4242:feed");
    let before = cluster.revision();
    let access = sf.current_access_token().unwrap();

    let started = Instant::now();
    let out = run(&mut run_at(
        &sf,
        &cluster.url(KEY),
        &[
            "--if-older-than",
            "1h",
            "--print",
            "token",
            "--timeout",
            "5",
        ],
    ));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, format!("{access}\n").as_str())
    );
    assert!(
        out.stderr
            .ends_with("is fresh (issued 0s ago), not refreshed\n")
            || out.stderr.contains("is fresh"),
        "{}",
        out.stderr
    );

    let mut exec = sfrefresh();
    exec.args([
        "exec",
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &sf.token_url(),
        "--timeout",
        "5",
    ])
    .arg(cluster.url(KEY))
    .args(["--", "sh", "-c", "printf %s \"$SF_ACCESS_TOKEN\""]);
    let out = run(&mut exec);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, access.as_str()),
        "{}",
        out.stderr
    );

    let mut status = sfrefresh();
    status
        .args(["status", "--timeout", "5"])
        .arg(cluster.url(KEY));
    let out = run(&mut status);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(&cluster.url(KEY)), "{}", out.stdout);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a reader waited for the lock"
    );
    assert_eq!(cluster.revision(), before, "a reader wrote");

    // A due refresh waits for the lock until its --timeout and sends nothing: exit 4,
    // as a lock in etcd ends with its holder's lease.
    let out = run(&mut run_at(&sf, &cluster.url(KEY), &["--timeout", "2"]));
    let url = cluster.url(KEY);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            4,
            format!(
                "sfrefresh: waiting for {url} held by other-host:4242:feed\n\
                 sfrefresh: error: {url}: another run (other-host:4242:feed) has held the etcd \
                 lock for more than the 2s --timeout; nothing was sent\n\
                 sfrefresh: hint: a lock ends with its holder's lease at the latest: try again \
                 later\n"
            )
            .as_str()
        )
    );
    assert_eq!(sf.refresh_tokens_presented().len(), 1);
}

/// Requirement 1: a holder killed mid-refresh frees the lock when its lease ends (its
/// `--timeout` plus 5 s); a host waiting meanwhile takes it then, on a watch, within
/// its own `--timeout`.
#[test]
fn a_killed_holder_frees_the_lock_after_its_lease() {
    if !available("a_killed_holder_frees_the_lock_after_its_lease") {
        return;
    }
    let cluster = seeded();
    // No rotation: the killed holder's request still reaches the server, as it would.
    let sf = server(false, Duration::from_secs(3));
    let mut a = spawn(run_at(&sf, &cluster.url(KEY), &["--timeout", "2"]));
    let lock = format!("{KEY}/.lock");
    wait_for(Duration::from_secs(10), "the first holder's lock", || {
        cluster.get(&lock).is_some()
    });
    signal(a.id(), "KILL");
    let _ = a.wait();
    let killed = Instant::now();
    let b = spawn(run_at(&sf, &cluster.url(KEY), &["--timeout", "20"]));
    let out = finish(b);
    let waited = killed.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("waiting for"), "{}", out.stderr);
    // The lease was 7 s (2 s --timeout + 5 s), granted just before the kill.
    assert!(waited >= Duration::from_secs(4), "{waited:?}");
    assert!(waited < Duration::from_secs(12), "{waited:?}");
    assert_eq!(
        stored(&cluster)["access_token"],
        sf.current_access_token().unwrap().as_str()
    );
    assert_eq!(cluster.keys(KEY), [KEY]);
}

/// Requirement 4: a holder stopped (SIGSTOP) past its lease, mid-request, while another
/// host refreshes and saves: when it wakes it never overwrites what the other saved.
#[test]
fn a_holder_stopped_past_its_lease_never_overwrites_a_later_save() {
    if !available("a_holder_stopped_past_its_lease_never_overwrites_a_later_save") {
        return;
    }
    let cluster = seeded();
    let sf = server(false, Duration::from_secs(2));
    let home = TempDir::new();
    let mut cmd = run_at(
        &sf,
        &cluster.url(KEY),
        &["--timeout", "1", "--retries", "0"],
    );
    cmd.env("HOME", &home.0);
    let a = spawn(cmd);
    // Stopped mid-request: the server has its refresh token and holds the answer 2 s.
    wait_for(
        Duration::from_secs(10),
        "the first holder's request",
        || !sf.refresh_tokens_presented().is_empty(),
    );
    signal(a.id(), "STOP");
    // Its lease (1 s + 5 s) ends; another host takes the lock and saves.
    let b = run(&mut run_at(&sf, &cluster.url(KEY), &["--timeout", "20"]));
    assert_eq!(b.code, 0, "{}", b.stderr);
    let saved = cluster.get(KEY).unwrap();
    assert!(saved.contains(&sf.current_access_token().unwrap()));
    signal(a.id(), "CONT");
    let out = finish(a);
    // It woke past its deadline: the answer it waited for is late, and nothing is saved.
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            4,
            format!(
                "sfrefresh: error: {}: no complete answer from {} within the 1s --timeout\n",
                cluster.url(KEY),
                sf.token_url()
            )
            .as_str()
        )
    );
    assert_eq!(
        cluster.get(KEY).unwrap(),
        saved,
        "the stopped holder overwrote a later save"
    );
    assert_eq!(cluster.keys(KEY), [KEY]);
}

/// Requirement 3 and 4: a holder whose lease ends while its request is in flight (here
/// revoked with etcdctl) gets its answer, finds the value changed, saves nothing, and
/// keeps the answer in a 0600 rescue file on its own host: exit 3.
#[test]
fn a_holder_that_lost_its_lease_rescues_the_answer_instead_of_saving() {
    if !available("a_holder_that_lost_its_lease_rescues_the_answer_instead_of_saving") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::from_secs(2));
    let runtime = TempDir::new();
    let mut cmd = run_at(&sf, &cluster.url(KEY), &["--timeout", "20"]);
    cmd.env("XDG_RUNTIME_DIR", &runtime.0);
    let a = spawn(cmd);
    let lock = format!("{KEY}/.lock");
    wait_for(Duration::from_secs(10), "the holder's request", || {
        !sf.refresh_tokens_presented().is_empty()
    });
    // The lease of the lock key, revoked: the lock goes, as when a lease runs out.
    cluster.revoke_lease_of(&lock);
    // Another writer changes the value meanwhile.
    let other = TOKEN.replace("old-access", "written-by-another-host");
    cluster.put(KEY, &other);
    let out = finish(a);
    let url = cluster.url(KEY);
    let names = runtime.names();
    assert_eq!(names.len(), 1, "{names:?}");
    let rescue = runtime.path(&names[0]);
    assert!(
        names[0].starts_with("sfrefresh-rescue-etcd-sfr-acme-"),
        "{names:?}"
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            3,
            format!(
                "sfrefresh: the server's answer (which may hold the only copy of a new refresh \
                 token) was saved to {} (mode 0600); keep it until the token file works again\n\
                 sfrefresh: error: token file {url}: was not saved: this run's etcd lock ended \
                 (its lease ran out while the run was stopped or stalled) and the value may have \
                 changed since; nothing was overwritten; the server rotated the refresh token and \
                 the new one could not be kept in the file, so use the rescue file or authorise \
                 again\n",
                rescue.display()
            )
            .as_str()
        )
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&rescue).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let kept: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&rescue).unwrap()).unwrap();
    assert_eq!(
        kept["refresh_token"],
        sf.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(cluster.get(KEY).unwrap(), other);
}

/// Requirement 5: the leader killed mid-run, while four hosts refresh one after another:
/// every run completes on the two members left, and the chain has no replay.
#[test]
fn the_leader_killed_mid_run_the_runs_complete_on_the_others() {
    if !available("the_leader_killed_mid_run_the_runs_complete_on_the_others") {
        return;
    }
    let mut cluster = seeded();
    let sf = server(true, Duration::from_millis(300));
    let children: Vec<Child> = (0..4)
        .map(|_| spawn(run_at(&sf, &cluster.url(KEY), &["-q", "--timeout", "60"])))
        .collect();
    wait_for(Duration::from_secs(20), "the first request", || {
        !sf.refresh_tokens_presented().is_empty()
    });
    let leader = cluster.leader();
    cluster.kill(leader);
    for child in children {
        let out = finish(child);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    }
    assert!(!sf.family_revoked(), "{:?}", sf.refresh_tokens_presented());
    let chain = sf.refresh_token_chain();
    assert_eq!(chain.len(), 5, "{chain:?}");
    assert_eq!(stored(&cluster)["refresh_token"], chain[4].as_str());
    // The member comes back on its old data and catches up.
    cluster.restart(leader);
    cluster.wait_healthy();
}

/// Requirement 5: a member stopped (SIGSTOP: it accepts connections and never answers)
/// is passed over for the next one.
#[test]
fn a_stopped_member_is_passed_over() {
    if !available("a_stopped_member_is_passed_over") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::ZERO);
    let first = 0;
    signal(cluster.pid(first), "STOP");
    let out = run(&mut run_at(
        &sf,
        &cluster.url(KEY),
        &["-q", "--timeout", "30"],
    ));
    signal(cluster.pid(first), "CONT");
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        stored(&cluster)["refresh_token"],
        sf.current_refresh_token().unwrap().as_str()
    );
}

/// Requirement 5: no quorum (two of three members down), or no member at all: exit 4,
/// nothing sent to the token server, the location named.
#[test]
fn no_quorum_or_no_member_is_exit_4_and_nothing_is_sent() {
    if !available("no_quorum_or_no_member_is_exit_4_and_nothing_is_sent") {
        return;
    }
    let mut cluster = seeded();
    let sf = server(true, Duration::ZERO);
    cluster.kill(1);
    cluster.kill(2);
    let url = cluster.url(KEY);
    let out = run(&mut run_at(&sf, &url, &["--timeout", "3"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: {url}: no etcd member answered: "
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.ends_with(
            "\nsfrefresh: hint: check that a majority of the cluster's members are up and reachable\n"
        ),
        "{}",
        out.stderr
    );
    cluster.kill(0);
    let out = run(&mut run_at(&sf, &url, &["--timeout", "3"]));
    let port = cluster.members[0].client_port;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{port}: ")) && out.stderr.contains("refused"),
        "{}",
        out.stderr
    );
    assert!(sf.requests().is_empty(), "something was sent");
}

/// Requirement 6: a missing key or a value that is not token JSON: exit 3, as for a
/// file, nothing sent.
#[test]
fn a_missing_key_or_a_broken_value_is_exit_3() {
    if !available("a_missing_key_or_a_broken_value_is_exit_3") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::ZERO);
    let missing = cluster.url("/sfr/nobody");
    let out = run(&mut run_at(&sf, &missing, &[]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            3,
            format!(
                "sfrefresh: error: token file {missing}: does not exist: the key holds no token \
                 (seed it with `sfrefresh login` or `etcdctl put`)\n"
            )
            .as_str()
        )
    );
    cluster.put("/sfr/broken", "not json at all");
    let broken = cluster.url("/sfr/broken");
    let out = run(&mut run_at(&sf, &broken, &[]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with(&format!("sfrefresh: error: token file {broken}: ")),
        "{}",
        out.stderr
    );
    assert!(sf.requests().is_empty());
    assert_eq!(cluster.keys("/sfr/"), ["/sfr/acme", "/sfr/broken"]);
}

/// Requirement 6: etcd refuses (a wrong password, a key outside the user's role): exit
/// 3, nothing sent, and the password in no message.
#[test]
fn etcd_refusals_are_exit_3_and_never_show_the_password() {
    if !available("etcd_refusals_are_exit_3_and_never_show_the_password") {
        return;
    }
    let mut cluster = seeded();
    cluster.put("/sfr/other", TOKEN);
    cluster.enable_auth();
    let sf = server(true, Duration::ZERO);
    let url = cluster.url(KEY);
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Env, &str); 4] = [
        (
            "wrong password",
            &[
                ("ETCDCTL_USER", "acme"),
                ("ETCDCTL_PASSWORD", "wrong-pw-123"),
            ],
            "etcd refused: user \"acme\": authentication failed, invalid user ID or password",
        ),
        (
            "password in ETCDCTL_USER",
            &[("ETCDCTL_USER", "acme:wrong-pw-123")],
            "etcd refused: user \"acme\": authentication failed, invalid user ID or password",
        ),
        ("no credentials", &[], "etcd refused: user name is empty"),
        (
            "outside the role",
            &[("ETCDCTL_USER", "acme"), ("ETCDCTL_PASSWORD", "acme-pw")],
            "etcd refused: permission denied",
        ),
    ];
    for (what, env, problem) in cases {
        let target = if what == "outside the role" {
            cluster.url("/sfr/other")
        } else {
            url.clone()
        };
        let mut cmd = run_at(&sf, &target, &["--timeout", "5"]);
        cmd.envs(env.iter().copied());
        let out = run(&mut cmd);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (
                3,
                format!("sfrefresh: error: token file {target}: {problem}\n").as_str()
            ),
            "{what}"
        );
        assert!(!out.stderr.contains("pw"), "{what}: {}", out.stderr);
    }
    assert!(sf.requests().is_empty());
    // The right password, and the role's prefix: it works, and the lock was allowed.
    let mut cmd = run_at(&sf, &url, &["-q"]);
    cmd.env("ETCDCTL_USER", "acme")
        .env("ETCDCTL_PASSWORD", "acme-pw");
    let out = run(&mut cmd);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn credentials_in_the_url_are_refused_without_echoing_them() {
    let out = run(sfrefresh().arg("etcd://root:s3cret-pw@127.0.0.1:2379/sfr/acme"));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "sfrefresh: error: the etcd location holds credentials: give them in ETCDCTL_USER \
             and ETCDCTL_PASSWORD, never in the URL (a command line is visible to every user)\n"
        )
    );
}

/// etcds://: the server's certificate checked against ETCDCTL_CACERT, a client
/// certificate from ETCDCTL_CERT and ETCDCTL_KEY; a certificate refused either way is
/// exit 3 with nothing sent, as a token file that cannot be read.
#[test]
fn etcds_with_a_ca_and_a_client_certificate() {
    if !available("etcds_with_a_ca_and_a_client_certificate") {
        return;
    }
    let cluster = Cluster::start_tls(3);
    cluster.put(KEY, TOKEN);
    let sf = server(true, Duration::ZERO);
    let url = cluster.url(KEY);
    assert!(url.starts_with("etcds://"));
    let ca = cert("etcd-ca.pem");
    type Env = Vec<(&'static str, String)>;
    let cases: [(&str, Env, &str); 3] = [
        (
            "the built-in roots do not know the test CA",
            vec![
                ("ETCDCTL_CERT", cert("client.pem")),
                ("ETCDCTL_KEY", cert("client.key")),
            ],
            "the server's certificate is not signed by a trusted CA",
        ),
        (
            "no client certificate",
            vec![("ETCDCTL_CACERT", ca.clone())],
            "received fatal alert",
        ),
        (
            "a client certificate etcd does not trust",
            vec![
                ("ETCDCTL_CACERT", ca.clone()),
                ("ETCDCTL_CERT", cert("untrusted.pem")),
                ("ETCDCTL_KEY", cert("untrusted.key")),
            ],
            "received fatal alert",
        ),
    ];
    for (what, env, problem) in cases {
        let mut cmd = run_at(&sf, &url, &["--timeout", "5"]);
        cmd.envs(env);
        let out = run(&mut cmd);
        assert_eq!(out.code, 3, "{what}: {}", out.stderr);
        let head = format!("sfrefresh: error: token file {url}: etcd refused: TLS with 127.0.0.1:");
        assert!(out.stderr.starts_with(&head), "{what}: {}", out.stderr);
        assert!(out.stderr.contains(problem), "{what}: {}", out.stderr);
    }
    assert!(sf.requests().is_empty());
    let mut cmd = run_at(&sf, &url, &["-q"]);
    cmd.env("ETCDCTL_CACERT", &ca)
        .env("ETCDCTL_CERT", cert("client.pem"))
        .env("ETCDCTL_KEY", cert("client.key"));
    let out = run(&mut cmd);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        stored(&cluster)["refresh_token"],
        sf.current_refresh_token().unwrap().as_str()
    );
}

/// A token issued long ago for `family`, in the shape the fleet tests use.
fn family_token(family: &str) -> String {
    TOKEN.replace("5Aep861.refresh-r0", family)
}

fn rotating_families(families: &[&str]) -> FakeSalesforce {
    let mut b = FakeSalesforce::builder()
        .client_id(CLIENT_ID)
        .instance_url("https://acme.my.salesforce.com");
    for f in families {
        b = b.refresh_token(f);
    }
    b.start()
}

/// Requirement 7: a prefix names every family under it (locks skipped) as a directory
/// does, mixed with files and `--files-from` lines; the metrics file labels each by its
/// location; the batch line counts them all.
#[test]
fn a_prefix_a_list_and_files_in_one_batch_with_metrics() {
    if !available("a_prefix_a_list_and_files_in_one_batch_with_metrics") {
        return;
    }
    let cluster = Cluster::start(3);
    let families = [
        "5Aep861.fam-a",
        "5Aep861.fam-b",
        "5Aep861.fam-c",
        "5Aep861.fam-d",
    ];
    let sf = rotating_families(&families);
    cluster.put("/fleet/a", &family_token(families[0]));
    cluster.put("/fleet/b", &family_token(families[1]));
    // Listed: only a last part starting with a dot (a lock) is skipped.
    cluster.put("/fleet/b/.lock-like-but-not/x", "not json");
    cluster.put("/fleet/.hidden", "a dot name: skipped, as in a directory");
    cluster.put("/elsewhere/c", &family_token(families[2]));
    let dir = TempDir::new();
    let file = dir.write("d.json", &family_token(families[3]));
    let list = dir.write("list", &format!("{}\n", cluster.url("/elsewhere/c")));
    let metrics = dir.path("m.prom");
    let prefix = cluster.url("/fleet/");
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &sf.token_url(),
        "--jobs",
        "1",
    ])
    .arg("--metrics-file")
    .arg(&metrics)
    .arg("--files-from")
    .arg(&list)
    .arg(&prefix)
    .arg(&file);
    let out = run(&mut cmd);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let refreshed = |shown: &str| {
        format!(
            "sfrefresh: {shown}: refreshed token for https://acme.my.salesforce.com (refresh token rotated)"
        )
    };
    let odd = cluster.url("/fleet/b/.lock-like-but-not/x");
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        lines,
        [
            refreshed(&cluster.url("/fleet/a")),
            refreshed(&cluster.url("/fleet/b")),
            format!(
                "sfrefresh: {odd}: error (exit 3): is not valid JSON (expected ident at line 1 \
                 column 2)"
            ),
            refreshed(&cluster.url("/elsewhere/c")),
            refreshed(&file.display().to_string()),
            "sfrefresh: 5 token files: 4 refreshed, 0 fresh, 1 failed (exit 3)".to_string(),
        ]
    );
    let text = fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(&format!(
            "sfrefresh_last_success_timestamp_seconds{{file=\"{}\"}}",
            cluster.url("/fleet/a")
        )),
        "{text}"
    );
    let presented = sf.refresh_tokens_presented();
    assert_eq!(presented.len(), 4, "{presented:?}");
    for (key, family) in [("/fleet/a", 0), ("/fleet/b", 1), ("/elsewhere/c", 2)] {
        let v = value_at(&cluster, key);
        assert_ne!(v["refresh_token"], families[family], "{key} was not saved");
    }
}

/// `SF_TOKEN_FILE` takes an etcd location too; `-v` names the lock and the lease and
/// shows no password or auth token.
#[test]
fn sf_token_file_and_verbose_lines_without_secrets() {
    if !available("sf_token_file_and_verbose_lines_without_secrets") {
        return;
    }
    let mut cluster = seeded();
    cluster.enable_auth();
    let sf = server(true, Duration::ZERO);
    let mut cmd = sfrefresh();
    cmd.args([
        "-v",
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &sf.token_url(),
    ])
    .env("SF_TOKEN_FILE", cluster.url(KEY))
    .env("ETCDCTL_USER", "acme")
    .env("ETCDCTL_PASSWORD", "acme-pw");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let url = cluster.url(KEY);
    assert!(
        out.stderr
            .contains(&format!("sfrefresh: locked {url} (etcd lease ")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("sfrefresh: saved {url}\n")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("acme-pw"), "{}", out.stderr);
    assert!(!out.stderr.contains("5Aep861"), "{}", out.stderr);
}

/// `revoke` of a family in etcd: the token is revoked, then the key is deleted under
/// the lock (or, with `--keep-file`, kept without its tokens).
#[test]
fn revoke_deletes_the_key_or_keeps_it_without_tokens() {
    if !available("revoke_deletes_the_key_or_keeps_it_without_tokens") {
        return;
    }
    let cluster = seeded();
    cluster.put("/sfr/kept", &family_token("5Aep861.kept"));
    let sf = FakeSalesforce::builder()
        .client_id(CLIENT_ID)
        .refresh_token("5Aep861.refresh-r0")
        .refresh_token("5Aep861.kept")
        .start();
    let url = cluster.url(KEY);
    let mut cmd = sfrefresh();
    cmd.args([
        "revoke",
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &sf.token_url(),
    ])
    .arg(&url);
    let out = run(&mut cmd);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            0,
            format!(
                "sfrefresh: revoked the refresh token for https://acme.my.salesforce.com; \
                 removed {url}\n"
            )
            .as_str()
        )
    );
    assert_eq!(cluster.keys(KEY), Vec::<String>::new());
    let kept = cluster.url("/sfr/kept");
    let mut cmd = sfrefresh();
    cmd.args([
        "revoke",
        "--keep-file",
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &sf.token_url(),
    ])
    .arg(&kept);
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = value_at(&cluster, "/sfr/kept");
    assert!(
        v.get("refresh_token").is_none() && v.get("access_token").is_none(),
        "{v}"
    );
    assert_eq!(v["instance_url"], "https://acme.my.salesforce.com");
    assert_eq!(cluster.keys("/sfr/kept"), ["/sfr/kept"]);
}

/// `login` writes the first token to a key; a key that holds a refresh token is
/// replaced only with `--force`, and the refusal comes before anything is sent.
#[test]
fn login_writes_the_first_token_to_a_key() {
    if !available("login_writes_the_first_token_to_a_key") {
        return;
    }
    let cluster = seeded();
    let sf = FakeSalesforce::builder()
        .client_secret("cc-s3cret")
        .my_domain(true)
        .start();
    let dir = TempDir::new();
    let secret = dir.write("secret", "cc-s3cret\n");
    let login = |location: &str, extra: &[&str]| {
        let mut cmd = sfrefresh();
        cmd.args([
            "login",
            "--client-id",
            &sf.client_id(),
            "--token-url",
            &sf.token_url(),
        ])
        .args(["--grant", "client-credentials", "--client-secret-file"])
        .arg(&secret)
        .args(extra)
        .arg(location);
        run(&mut cmd)
    };
    let new = cluster.url("/sfr/new");
    let out = login(&new, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("; saved {new} (")),
        "{}",
        out.stderr
    );
    let v = value_at(&cluster, "/sfr/new");
    assert_eq!(
        v["access_token"],
        sf.current_access_token().unwrap().as_str()
    );
    assert_eq!(v["sfrefresh_grant"], "client-credentials");
    assert_eq!(cluster.keys("/sfr/new"), ["/sfr/new"]);

    let url = cluster.url(KEY);
    let out = login(&url, &[]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            3,
            format!(
                "sfrefresh: error: token file {url}: already holds a refresh token; use --force \
                 to replace it (the old token stays valid until revoked); nothing was sent\n"
            )
            .as_str()
        )
    );
    assert_eq!(sf.requests().len(), 1);
    let out = login(&url, &["--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(stored(&cluster).get("refresh_token").is_none());
}

/// Requirement 7, `--watch` on several hosts: each due time is refreshed once (the
/// others find the token fresh, read without the lock), a watcher killed does not stop
/// the others, and no refresh token is ever sent twice.
#[test]
fn several_watchers_refresh_each_due_time_once_and_outlive_a_killed_one() {
    if !available("several_watchers_refresh_each_due_time_once_and_outlive_a_killed_one") {
        return;
    }
    let cluster = seeded();
    let sf = server(true, Duration::from_millis(50));
    let url = cluster.url(KEY);
    let watchers: Vec<Child> = (0..3)
        .map(|_| {
            let mut cmd = run_at(
                &sf,
                &url,
                &["--watch", "--if-older-than", "2s", "--timeout", "5"],
            );
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    thread::sleep(Duration::from_secs(5));
    let mut watchers = watchers.into_iter();
    let mut killed = watchers.next().unwrap();
    signal(killed.id(), "KILL");
    let _ = killed.wait();
    let at_kill = sf.refresh_tokens_presented().len();
    thread::sleep(Duration::from_secs(5));
    let after = sf.refresh_tokens_presented().len();
    for mut w in watchers {
        signal(w.id(), "TERM");
        let _ = w.wait();
    }
    let presented = sf.refresh_tokens_presented();
    assert!(!sf.family_revoked(), "{presented:?}");
    // About one refresh every 2 s (plus jitter) in 10 s, not one per watcher.
    assert!((3..=6).contains(&presented.len()), "{presented:?}");
    assert!(
        after > at_kill,
        "the others stopped after a watcher was killed: {presented:?}"
    );
    assert_eq!(
        stored(&cluster)["refresh_token"],
        sf.current_refresh_token().unwrap().as_str()
    );
}

/// A prefix alone is a batch, as a directory alone is; the verbs of one location refuse
/// it before anything is sent.
#[test]
fn a_prefix_alone_is_a_batch_and_one_location_verbs_refuse_it() {
    if !available("a_prefix_alone_is_a_batch_and_one_location_verbs_refuse_it") {
        return;
    }
    let cluster = Cluster::start(3);
    let sf = rotating_families(&["5Aep861.fam-a"]);
    cluster.put("/only/a", &family_token("5Aep861.fam-a"));
    let prefix = cluster.url("/only/");
    let out = run(&mut run_at(&sf, &prefix, &[]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            0,
            format!(
                "sfrefresh: {}: refreshed token for https://acme.my.salesforce.com (refresh \
                 token rotated)\nsfrefresh: 1 token file: 1 refreshed, 0 fresh, 0 failed\n",
                cluster.url("/only/a")
            )
            .as_str()
        )
    );
    for verb in ["status", "revoke", "login"] {
        let args = if verb == "login" {
            vec![verb, "--device"]
        } else {
            vec![verb]
        };
        let out = run(sfrefresh().args(args).arg(&prefix));
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (
                2,
                format!(
                    "sfrefresh: error: {prefix} names every family under a prefix (it ends in \
                     '/'); {verb} takes one key\n"
                )
                .as_str()
            ),
            "{verb}"
        );
    }
}

/// `--watch` parks a refused family until it changes, as it does a file: a new token
/// put into the key (a new revision) is noticed and refreshed.
#[test]
fn a_parked_family_is_tried_again_when_its_key_changes() {
    if !available("a_parked_family_is_tried_again_when_its_key_changes") {
        return;
    }
    let cluster = Cluster::start(3);
    let sf = rotating_families(&["5Aep861.fam-a", "5Aep861.fam-b"]);
    cluster.put("/w/a", &family_token("5Aep861.fam-a"));
    cluster.put("/w/b", &family_token("5Aep861.unknown"));
    let dir = TempDir::new();
    let log = dir.path("stderr");
    let mut cmd = run_at(
        &sf,
        &cluster.url("/w/"),
        &["--watch", "--if-older-than", "2s"],
    );
    cmd.stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap());
    let mut watcher = cmd.spawn().unwrap();
    let b = cluster.url("/w/b");
    let parked = format!("sfrefresh: {b}: not tried again until the token file changes");
    wait_for(Duration::from_secs(20), "b parked", || {
        fs::read_to_string(&log).unwrap().contains(&parked)
    });
    cluster.put("/w/b", &family_token("5Aep861.fam-b"));
    wait_for(Duration::from_secs(20), "b refreshed", || {
        sf.refresh_tokens_presented()
            .contains(&"5Aep861.fam-b".to_string())
    });
    signal(watcher.id(), "TERM");
    assert_eq!(watcher.wait().unwrap().code(), Some(0));
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!(
            "sfrefresh: {b}: the token file changed; trying it again"
        )),
        "{text}"
    );
    let v = value_at(&cluster, "/w/b");
    assert_ne!(v["refresh_token"], "5Aep861.fam-b");
}

/// Rule 1 of docs/etcd.md: a holder stopped after taking the lock and before its lease
/// check, whose lease ended meanwhile, sends nothing when it wakes (exit 4). The stop
/// must land in that window: a large token makes it wide. An attempt that stopped the
/// holder later (connected, or past the check and about to connect) is let run, its
/// outcome checked for what rule 2 promises instead (nothing overwritten), and tried
/// again; without the check every attempt would send.
#[test]
fn a_holder_whose_lease_ended_before_sending_sends_nothing() {
    if !available("a_holder_whose_lease_ended_before_sending_sends_nothing") {
        return;
    }
    let cluster = Cluster::start(3);
    let sf = server(false, Duration::ZERO);
    let big = TOKEN.replace(
        "\"scope\"",
        &format!(
            "\"x_padding\": \"{}\",\n  \"scope\"",
            "p".repeat(900 * 1024)
        ),
    );
    let url = cluster.url(KEY);
    let lock = format!("{KEY}/.lock");
    for attempt in 0..20 {
        cluster.put(KEY, &big);
        let (before, connected) = (sf.requests().len(), sf.connections());
        let a = spawn(run_at(&sf, &url, &["--timeout", "20"]));
        wait_for(Duration::from_secs(20), "the holder's lock", || {
            cluster.get(&lock).is_some()
        });
        signal(a.id(), "STOP");
        // A moment lets the server accept a connection made just before the stop.
        thread::sleep(Duration::from_millis(300));
        if sf.connections() > connected {
            signal(a.id(), "CONT");
            let _ = finish(a);
            eprintln!("attempt {attempt}: stopped after connecting; again");
            continue;
        }
        // The lease of the lock, revoked: as if it had run out while the holder slept.
        cluster.revoke_lease_of(&lock);
        signal(a.id(), "CONT");
        let out = finish(a);
        if sf.requests().len() > before {
            // Stopped just after its lease check: the save's compare refused it instead.
            assert_eq!(out.code, 3, "{}", out.stderr);
            assert_eq!(
                cluster.get(KEY).unwrap(),
                big,
                "a lost lock overwrote the key"
            );
            eprintln!("attempt {attempt}: stopped after the lease check; again");
            continue;
        }
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (
                4,
                format!(
                    "sfrefresh: error: {url}: this run's etcd lock lease ended or would end \
                     before its --timeout (the run was stopped or stalled?); another run may \
                     hold the lock, so nothing was sent\n"
                )
                .as_str()
            )
        );
        assert_eq!(cluster.get(KEY).unwrap(), big);
        return;
    }
    panic!("the holder was never stopped between its lock and its lease check");
}
