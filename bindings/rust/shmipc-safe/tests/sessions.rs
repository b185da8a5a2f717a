//! Sessions through the safe crate, for each provider: objects both ways, read-only
//! borrows, blobs by other means, and every error a user can run into.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use common::{pair, pattern, unique, used, with_each_provider, SocketDir, WAIT};
use shmipc::{AppRule, Blob, ErrorKind, Object, Provider, ReadOnly, Server, Session, MSG_MAX};

/// Receive a message that must carry an object.
fn recv_object(session: &Session) -> (Vec<u8>, Object<ReadOnly>) {
    let mut buf = [0u8; 64];
    let msg = session.recv(&mut buf, WAIT).expect("a message");
    let object = msg.object.expect("an object with the message");
    (buf[..msg.len].to_vec(), object)
}

/// Close the client side and wait until the server side has seen it go.
fn close_client(server_side: &Session, client_side: Session) {
    drop(client_side);
    let err = server_side.recv(&mut [0; 16], WAIT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
}

#[test]
fn objects_go_both_ways_and_nothing_is_left() {
    with_each_provider("both-ways", |_, server, dir, name| {
        let (srv, cli) = pair(server, dir, name, "peer");
        let (base, base_app) = (used(srv.arena()), used(srv.app_arena()));
        for size in [1, 4096, 1 << 20] {
            let mut obj = srv.arena().new_object(size).unwrap();
            obj.copy_from_slice(&pattern(size));
            let obj = obj.into_read_only(); // frozen: lent
            srv.send_with(b"sum", &obj).unwrap();
            drop(obj); // the loan keeps it alive

            let (msg, got) = recv_object(&cli);
            assert_eq!(msg, b"sum");
            assert_eq!(&got[..], &pattern(size)[..], "{size} bytes read in place");
            let mut answer = cli.arena().new_object(size).unwrap();
            for (dst, src) in answer.iter_mut().zip(got.iter().rev()) {
                *dst = *src;
            }
            drop(got);
            cli.send_with(b"rev", &answer.into_read_only()).unwrap();

            let (_, back) = recv_object(&srv);
            assert!(
                back.iter().eq(pattern(size).iter().rev()),
                "{size} bytes reversed"
            );
        }
        close_client(&srv, cli);
        assert_eq!(used(srv.arena()), base, "session arena back to baseline");
        assert_eq!(
            used(srv.app_arena()),
            base_app,
            "app arena back to baseline"
        );
        srv.arena().check().unwrap();
    });
}

#[test]
fn a_lent_object_is_frozen_everywhere() {
    with_each_provider("frozen", |provider, server, dir, name| {
        let (srv, cli) = pair(server, dir, name, "peer");
        let mut obj = srv.arena().new_object(64).unwrap();
        obj.fill(1);
        assert!(obj.is_writable());
        let obj = obj.into_read_only(); // lending takes only a frozen object
        srv.send_with(b"x", &obj).unwrap();
        let (_, got) = recv_object(&cli);
        // The kernel maps a lend-provider loan read-only; with the shared provider only the
        // type system keeps the borrower from writing (nothing makes a borrowed handle
        // writable), so the owner's `&[u8]` and the borrower's see the same bytes.
        assert_eq!(got.is_writable(), provider == Provider::Shared);
        assert_eq!((&got[..], &obj[..]), (&[1; 64][..], &[1; 64][..]));
        // the same object lent twice, and lent back: more frozen handles of one memory
        let again = cli.borrow(&srv.lend(&obj).unwrap()).unwrap();
        assert_eq!(again.as_ptr(), got.as_ptr());
        if provider == Provider::Shared {
            // (a lend-provider borrower cannot lend on: only the owner lends)
            let back = srv.borrow(&cli.lend(&got).unwrap()).unwrap();
            assert_eq!(back.as_ptr(), obj.as_ptr());
        }
    });
}

#[test]
fn blobs_travel_by_other_means_and_are_checked() {
    with_each_provider("blobs", |_, server, dir, name| {
        let (srv, cli) = pair(server, dir, name, "peer");
        let (other_srv, other_cli) = pair(server, dir, name, "other");
        let base = used(srv.arena());
        let mut obj = srv.arena().new_object(100).unwrap();
        obj.copy_from_slice(&pattern(100));
        let obj = obj.into_read_only();
        let blob = srv.lend(&obj).unwrap();

        let bytes = blob.as_bytes().to_vec();
        assert_eq!(bytes.len(), Blob::SIZE);
        let err = Blob::from_bytes(&bytes[..40]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadBlob, "truncated: {err}");
        let mut flipped = bytes.clone();
        flipped[20] ^= 4;
        let err = cli
            .borrow(&Blob::from_bytes(&flipped).unwrap())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadBlob, "one bit flipped: {err}");
        assert!(!err.detail().is_empty(), "the detail says what is wrong");
        let err = other_cli.borrow(&blob).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::BadBlob,
            "another session's blob: {err}"
        );

        let got = cli.borrow(&Blob::from_bytes(&bytes).unwrap()).unwrap();
        assert_eq!(&got[..], &pattern(100)[..]);
        let err = cli.borrow(&blob).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadBlob, "borrowed twice: {err}");
        drop((got, obj));
        srv.poll().unwrap(); // the lend provider's owner takes the release here
        let err = cli.borrow(&blob).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Stale, "the object is gone: {err}");
        close_client(&srv, cli);
        close_client(&other_srv, other_cli);
        assert_eq!(used(srv.arena()), base, "nothing leaked");
    });
}

#[test]
fn objects_outlive_their_session_and_closed_sessions_say_so() {
    with_each_provider("closed", |_, server, dir, name| {
        let (srv, cli) = pair(server, dir, name, "peer");
        let mut obj = srv.arena().new_object(4096).unwrap();
        obj.copy_from_slice(&pattern(4096));
        let obj = obj.into_read_only();
        srv.send_with(b"keep", &obj).unwrap();
        let (_, kept) = recv_object(&cli);
        drop(cli);
        assert_eq!(
            &kept[..],
            &pattern(4096)[..],
            "readable after its session closed"
        );

        let err = srv.recv(&mut [0; 16], WAIT).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
        assert!(srv.is_closed());
        assert_eq!(srv.send(b"anyone?").unwrap_err().kind(), ErrorKind::Closed);
        assert_eq!(srv.lend(&obj).unwrap_err().kind(), ErrorKind::Closed);
        drop(srv);
        assert_eq!(&kept[..], &pattern(4096)[..], "and after both sides closed");
    });
}

#[test]
fn timeouts_and_message_sizes() {
    let dir = SocketDir::new("sizes");
    let name = unique("sizes");
    let server = dir.server(&name, Provider::Shared).unwrap();
    let err = server.accept(Some(Duration::from_millis(20))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "accept: {err}");
    let (srv, cli) = pair(&server, &dir, &name, "peer");

    let err = cli.recv(&mut [0; 16], Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "poll: {err}");
    let err = cli
        .recv(&mut [0; 16], Some(Duration::from_millis(20)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "wait: {err}");

    let err = srv.send(&vec![0; MSG_MAX + 1]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MessageSize, "{err}");
    srv.send(&vec![7; MSG_MAX]).unwrap();
    srv.send(b"hello world").unwrap();
    let mut big = vec![0; MSG_MAX];
    assert_eq!(cli.recv(&mut big, WAIT).unwrap().len, MSG_MAX);
    let mut small = [0u8; 4];
    let err = cli.recv(&mut small, WAIT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MessageSize, "{err}");
    assert_eq!(err.message_len(), Some(11), "how large a buffer it needs");
    let mut fits = [0u8; 11];
    let msg = cli.recv(&mut fits, WAIT).expect("still queued");
    assert_eq!(&fits[..msg.len], b"hello world");
    assert!(msg.object.is_none());
    drop((srv, cli, server));
    dir.finish();
}

#[test]
fn names_servers_and_clients_that_do_not_fit() {
    let dir = SocketDir::new("names");
    let name = unique("names");
    let options = dir.client_options();
    let err = Session::connect(&name, "peer", &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "no server: {err}");

    let server = dir.server(&name, Provider::Shared).unwrap();
    let err = Server::open(&name, &dir.server_options()).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::AlreadyExists,
        "a live server's name: {err}"
    );

    for bad in ["a/b", ".hidden", "", "nul\0byte", &"x".repeat(200)] {
        let err = Server::open(bad, &dir.server_options()).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidArgument,
            "server {bad:?}: {err}"
        );
        let err = Session::connect(&name, bad, &options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "app {bad:?}: {err}");
    }
    let err = Server::open("x", &dir.server_options().socket_dir("/tmp/a\0b")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    drop(server);
    dir.finish();
}

#[test]
fn the_allow_list_refuses_with_a_reason() {
    let dir = SocketDir::new("allow");
    let name = unique("allow");
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let options = dir
        .server_options()
        .allow(AppRule::new("good").uid(uid))
        .allow(AppRule::new("*").uid(uid.wrapping_add(1)));
    let server = Server::open(&name, &options).unwrap();
    let client_options = dir.client_options();
    let clients = std::thread::spawn({
        let name = name.clone();
        move || {
            let refused = Session::connect(&name, "bad", &client_options).unwrap_err();
            let accepted = Session::connect(&name, "good", &client_options);
            (refused, accepted)
        }
    });
    let session = server.accept(WAIT).expect("the good client");
    let (refused, accepted) = clients.join().unwrap();
    assert_eq!(refused.kind(), ErrorKind::PermissionDenied, "{refused}");
    assert!(!refused.detail().is_empty(), "with the server's reason");
    assert_eq!(server.rejected(), 1);
    assert_eq!(session.peer_pid(), std::process::id());
    drop((accepted.unwrap(), session, server));
    dir.finish();
}

/// poll(2) one descriptor for reading.
fn readable(fd: i32, timeout: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: p is one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut p, 1, ms) == 1 && p.revents & libc::POLLIN != 0 }
}

#[test]
fn descriptors_poll_readable_for_event_loops() {
    let dir = SocketDir::new("fds");
    let name = unique("fds");
    let server = dir.server(&name, Provider::Shared).unwrap();
    assert!(
        !readable(server.as_raw_fd(), Duration::ZERO),
        "nobody waits yet"
    );
    let options = dir.client_options();
    let client = std::thread::spawn({
        let name = name.clone();
        move || Session::connect(&name, "peer", &options)
    });
    assert!(
        readable(server.as_raw_fd(), Duration::from_secs(20)),
        "a client waits"
    );
    let srv = server.accept(WAIT).unwrap();
    let cli = client.join().unwrap().unwrap();

    // The descriptor signals messages that come after a receive found the channel empty
    // (as a non-blocking socket signals after EAGAIN): receive until TimedOut, then wait.
    let err = cli.recv(&mut [0; 8], Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(!readable(cli.as_raw_fd(), Duration::ZERO), "no message yet");
    srv.send(b"ping").unwrap();
    assert!(
        readable(cli.as_raw_fd(), Duration::from_secs(20)),
        "a message waits"
    );
    cli.recv(&mut [0; 8], Some(Duration::ZERO)).unwrap();
    drop(srv);
    assert!(
        readable(cli.as_raw_fd(), Duration::from_secs(20)),
        "the peer is gone"
    );
    drop((cli, server));
    dir.finish();
}

#[test]
fn one_session_serves_several_threads() {
    const THREADS: usize = 4;
    const EACH: usize = 50;
    let dir = SocketDir::new("threads");
    let name = unique("threads");
    let server = dir.server(&name, Provider::Shared).unwrap();
    let (srv, cli) = pair(&server, &dir, &name, "peer");
    let base = used(srv.arena());
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let srv = &srv;
            scope.spawn(move || {
                for i in 0..EACH {
                    let mut obj = srv.arena().new_object(32).unwrap();
                    obj.fill((t * EACH + i) as u8);
                    srv.send_with(&[t as u8, i as u8], &obj.into_read_only())
                        .unwrap();
                }
            });
        }
        let mut seen = [[false; EACH]; THREADS];
        for _ in 0..THREADS * EACH {
            let (msg, obj) = recv_object(&cli);
            let (t, i) = (msg[0] as usize, msg[1] as usize);
            assert!(
                obj.iter().all(|&b| b == (t * EACH + i) as u8),
                "object of {t}/{i}"
            );
            assert!(
                !std::mem::replace(&mut seen[t][i], true),
                "{t}/{i} came twice"
            );
        }
    });
    close_client(&srv, cli);
    assert_eq!(used(srv.arena()), base);
    drop((srv, server));
    dir.finish();
}

#[test]
fn objects_of_other_arenas_are_not_lent() {
    let dir = SocketDir::new("foreign");
    let name = unique("foreign");
    let server = dir.server(&name, Provider::Shared).unwrap();
    let (srv, _cli) = pair(&server, &dir, &name, "peer");
    let private = shmipc::Arena::anonymous(1 << 20).unwrap();
    let obj = private.new_object(64).unwrap().into_read_only();
    let err = srv.send_with(b"x", &obj).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    drop((srv, _cli, server));
    dir.finish();
}

#[test]
fn handle_types_cross_threads_as_the_core_allows() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Session>();
    send_sync::<shmipc::Arena>();
    send_sync::<Object>();
    send_sync::<Object<ReadOnly>>();
    send::<Server>(); // and not Sync: see the compile_fail example on Server
}

#[test]
fn send_timeout_and_shutdown_from_another_thread() {
    let dir = SocketDir::new("shutdown");
    let name = unique("shutdown");
    let server = dir.server(&name, Provider::Shared).unwrap();
    let (srv, cli) = pair(&server, &dir, &name, "peer");

    // The peer reads nothing: the channel fills, then a send times out and lends nothing.
    let big = vec![0u8; MSG_MAX];
    while srv.send_timeout(&big, Some(Duration::ZERO)).is_ok() {}
    while srv.send_timeout(b"", Some(Duration::ZERO)).is_ok() {}
    let started = std::time::Instant::now();
    let err = srv
        .send_timeout(b"x", Some(Duration::from_millis(200)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() >= Duration::from_millis(190));
    let base = used(srv.arena());
    let object = srv.arena().new_object(4096).unwrap().into_read_only();
    let err = srv
        .send_with_timeout(b"o", &object, Some(Duration::from_millis(20)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    drop(object);
    assert_eq!(used(srv.arena()), base, "nothing was lent");

    // shutdown from another thread wakes a blocked send and a blocked recv at once.
    std::thread::scope(|scope| {
        let sender = scope.spawn(|| (srv.send(b"late"), std::time::Instant::now()));
        let receiver = scope.spawn(|| {
            (
                srv.recv(&mut [0; 16], None).map(|_| ()),
                std::time::Instant::now(),
            )
        });
        std::thread::sleep(Duration::from_millis(200));
        let at = std::time::Instant::now();
        srv.shutdown();
        for (result, when) in [sender.join().unwrap(), receiver.join().unwrap()] {
            assert_eq!(result.unwrap_err().kind(), ErrorKind::Closed);
            assert!(when.duration_since(at) < Duration::from_millis(100));
        }
    });
    let err = srv.recv(&mut [0; 16], None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "later calls too: {err}");
    drop((srv, cli, server));
    dir.finish();
}

#[test]
fn shutdown_from_another_thread_ends_accept_at_once() {
    let dir = SocketDir::new("shutdown");
    let name = unique("shutdown");
    let server = dir.server(&name, Provider::Shared).unwrap();
    let handle = server.shutdown_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let started = std::time::Instant::now();
        handle.shutdown();
        (started, handle)
    });
    let err = server.accept(None).unwrap_err(); // forever, but for the shutdown
    let (started, handle) = stopper.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(started.elapsed() < Duration::from_millis(100), "at once");
    let later = server.accept(WAIT).unwrap_err();
    assert_eq!(
        later.kind(),
        ErrorKind::Closed,
        "later accepts too: {later}"
    );
    server.shutdown(); // again, from its own thread: nothing more happens
    drop(server);
    handle.shutdown(); // the server is gone: a no-op
    dir.finish();
}

#[test]
fn clients_of_more_apps_than_max_apps_are_refused() {
    let dir = SocketDir::new("max-apps");
    let name = unique("max-apps");
    let server = Server::open(&name, &dir.server_options().max_apps(1).max_pending(8)).unwrap();
    let options = dir.client_options();
    let clients = std::thread::spawn({
        let name = name.clone();
        move || {
            let first = Session::connect(&name, "first", &options);
            let second = Session::connect(&name, "second", &options).map(|_| ());
            (first, second)
        }
    });
    let session = server.accept(WAIT).expect("the first app's client");
    let err = server.accept(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    let (first, second) = clients.join().unwrap();
    let refused = second.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::PermissionDenied, "{refused}");
    assert!(refused.detail().contains("max_apps"), "{refused}");
    assert_eq!(server.rejected(), 1);
    drop((first.unwrap(), session, server));
    dir.finish();
}

#[test]
fn sessions_of_one_app_past_max_sessions_are_refused() {
    let dir = SocketDir::new("max-sessions");
    let name = unique("max-sessions");
    let server = Server::open(&name, &dir.server_options().max_sessions(2)).unwrap();
    let options = dir.client_options();
    let clients = std::thread::spawn({
        let name = name.clone();
        move || {
            let kept: Vec<_> = (0..2)
                .map(|_| Session::connect(&name, "app", &options))
                .collect();
            let third = Session::connect(&name, "app", &options).map(|_| ());
            (kept, third)
        }
    });
    let sessions = [server.accept(WAIT).unwrap(), server.accept(WAIT).unwrap()];
    let err = server.accept(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    let (kept, third) = clients.join().unwrap();
    let refused = third.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::PermissionDenied, "{refused}");
    assert!(
        refused
            .detail()
            .contains("2 sessions of app 'app', its limit (max_sessions)"),
        "{refused}"
    );
    drop((kept, sessions, server));
    dir.finish();
}
