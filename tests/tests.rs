//! The integration suite, one binary (as ripgrep's `tests/tests.rs`): each module spawns
//! the real `sfrefresh` against servers it starts on loopback; `server` is the one
//! network core of those servers, `util` holds the fixtures.

mod fake_salesforce;
mod server;
mod util;

mod concurrency;
mod docs;
mod etcd;
mod etcd_cluster;
mod fake_salesforce_selftest;
mod faults;
mod fleet;
mod heads;
mod interop;
mod layers;
mod login;
mod messages;
mod oidc;
mod refresh;
mod reliability;
mod tls;
mod verbs;
mod watch;
