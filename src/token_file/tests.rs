//! Unit tests of locking, stale temps, atomic replace and the pre-send checks.

use super::leftovers::names_in;
use super::*;
use crate::report::Level;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sfrefresh-unit-{name}-{}-{:x}",
        std::process::id(),
        crate::clock::random_u64()
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

/// `path` locked by a quiet run that scans for leftovers.
fn lock(path: &Path) -> LockedFile {
    lock_with(
        path,
        far(),
        Duration::from_secs(5),
        &Log::new(Level::Quiet),
        Sweep::Scan,
    )
    .unwrap()
}

#[test]
fn replace_keeps_mode_and_leaves_no_temp() {
    let dir = scratch("replace");
    let path = dir.join("tok.json");
    fs::write(&path, "old").unwrap();
    fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
    let locked = lock(&path);
    assert_eq!(locked.read().unwrap(), b"old");
    locked.check_writable(4096).unwrap();
    locked.replace(b"new", &Log::new(Level::Quiet)).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new");
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_second_lock_waits_until_the_deadline() {
    let dir = scratch("wait");
    let path = dir.join("tok.json");
    fs::write(&path, "x").unwrap();
    let _held = lock(&path);
    let soon = Instant::now() + Duration::from_millis(100);
    let Err(err) = lock_with(
        &path,
        soon,
        Duration::from_millis(100),
        &Log::new(Level::Quiet),
        Sweep::Scan,
    ) else {
        panic!("second lock must not be granted");
    };
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("held its lock"), "{err}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn stale_temps_are_removed_on_lock() {
    let dir = scratch("stale");
    let path = dir.join("tok.json");
    fs::write(&path, "x").unwrap();
    let stale = dir.join(".tok.json.sfrefresh-1-deadbeef.tmp");
    let other = dir.join(".other.json.sfrefresh-1-deadbeef.tmp");
    fs::write(&stale, "half").unwrap();
    fs::write(&other, "not ours").unwrap();
    let _held = lock(&path);
    assert!(!stale.exists());
    assert!(other.exists());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_save_the_disk_has_no_room_for_is_refused_before_sending() {
    let dir = scratch("room");
    let path = dir.join("tok.json");
    fs::write(&path, "x").unwrap();
    let locked = lock(&path);
    // An exbibyte: no disk here has it free.
    let err = locked.check_writable(1 << 60).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "token file {}: cannot be saved: the disk has no room for the {} KiB a save \
             needs; nothing was sent",
            path.display(),
            (1u64 << 60) / 1024
        )
    );
    assert_eq!(names_in(&dir).unwrap(), vec![OsString::from("tok.json")]);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_file_and_directory_are_named() {
    let dir = scratch("missing");
    let e = lock_with(
        &dir.join("nope.json"),
        far(),
        Duration::from_secs(5),
        &Log::new(Level::Quiet),
        Sweep::Scan,
    )
    .err()
    .unwrap();
    assert!(e.to_string().ends_with("nope.json: does not exist"), "{e}");
    let e = lock_with(
        &dir,
        far(),
        Duration::from_secs(5),
        &Log::new(Level::Quiet),
        Sweep::Scan,
    )
    .err()
    .unwrap();
    assert!(e.to_string().ends_with("is not a regular file"), "{e}");
    fs::remove_dir_all(dir).unwrap();
}
