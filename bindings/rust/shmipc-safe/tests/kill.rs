//! A Rust peer killed with SIGKILL while it holds borrowed objects: the owner gets every
//! byte back and its arenas stay consistent. The peer is this test program run again as a
//! child process (the ignored test `holder_peer`), so the kill is real.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{pair, used, with_each_provider, WAIT};
use shmipc::{ClientOptions, ErrorKind, Session};

/// "<server> <socket dir>" for the child.
const HOLDER: &str = "SHMIPC_RS_HOLDER";
const OBJECTS: usize = 10;

/// The child: borrow everything that comes, keep it, say "held N" after each; until killed.
#[test]
#[ignore = "the peer that a_killed_borrower_leaks_nothing runs in a child process"]
fn holder_peer() {
    let spec = std::env::var(HOLDER).expect("run by a_killed_borrower_leaks_nothing");
    let (server, dir) = spec.split_once(' ').expect("<server> <dir>");
    let options = ClientOptions::new().socket_dir(dir).timeout(WAIT);
    let session = Session::connect(server, "holder", &options).expect("connect");
    let mut held = Vec::new();
    while let Ok(msg) = session.recv(&mut [0; 16], None) {
        held.extend(msg.object);
        println!("held {}", held.len());
    }
}

/// Read the child's output until it says it holds `count` objects.
fn wait_held(out: &mut impl BufRead, count: usize) {
    let want = format!("held {count}");
    for line in out.lines() {
        if line.expect("the child's output") == want {
            return;
        }
    }
    panic!("the holder ended before it held {count} objects");
}

#[test]
fn a_killed_borrower_leaks_nothing() {
    with_each_provider("kill", |_, server, dir, name| {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "holder_peer", "--ignored", "--nocapture"])
            .env(HOLDER, format!("{name} {}", dir.path().display()))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the holder");
        let session = server.accept(WAIT).expect("the holder connects");
        let (base, base_app) = (used(session.arena()), used(session.app_arena()));
        for i in 0..OBJECTS {
            let arena = if i % 2 == 0 {
                session.arena()
            } else {
                session.app_arena()
            };
            let mut obj = arena.new_object(100_000).unwrap();
            obj.fill(i as u8);
            session.send_with(b"have", &obj.into_read_only()).unwrap();
        }
        wait_held(&mut BufReader::new(child.stdout.take().unwrap()), OBJECTS);
        assert!(used(session.arena()) > base + 400_000, "it holds them");

        child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        let err = session.recv(&mut [0; 16], WAIT).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "the death is seen: {err}");
        assert!(err.peer_died(), "and told from a goodbye: {err:?}");
        assert!(
            err.detail().contains("died or hung up without a goodbye"),
            "{err}"
        );
        child.wait().unwrap();
        assert_eq!(
            used(session.arena()),
            base,
            "session arena back to baseline"
        );
        assert_eq!(
            used(session.app_arena()),
            base_app,
            "app arena back to baseline"
        );
        session.arena().check().unwrap();
        session.app_arena().check().unwrap();
    });
}

#[test]
fn a_goodbye_is_no_death() {
    with_each_provider("goodbye", |_, server, dir, name| {
        let (owner, peer) = pair(server, dir, name, "leaver");
        drop(peer); // shmipc_session_close: a goodbye
        let err = owner.recv(&mut [0; 16], WAIT).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
        assert!(!err.peer_died(), "an orderly end: {err:?}");
        assert!(err.detail().contains("said goodbye"), "{err}");
    });
}

#[test]
fn a_client_waits_for_a_server_that_starts_later() {
    let dir = common::SocketDir::new("wait");
    let name = common::unique("wait");
    let options = ClientOptions::new()
        .socket_dir(dir.path())
        .timeout(Some(std::time::Duration::from_secs(10)));
    let err = Session::connect(&name, "early", &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "without wait: {err}");
    let start = std::time::Instant::now();
    let client = std::thread::spawn(move || Session::connect(&name, "early", &options.wait(true)));
    std::thread::sleep(std::time::Duration::from_secs(1));
    let server = dir
        .server(&common::unique("wait"), shmipc::Provider::Shared)
        .expect("the server, 1 s later");
    let _accepted = server.accept(WAIT).expect("the early client");
    let session = client
        .join()
        .unwrap()
        .expect("the client waited for its server");
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
    drop((session, _accepted, server));
    dir.finish();
}
