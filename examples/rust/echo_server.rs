//! echo_server — the server of the echo roles (examples/README.md), in Rust.
//!
//! Serves CLIENTS clients one after the other. To each it lends objects of the given sizes
//! and a catalogue, checks every answer (the bytes reversed; the catalogue rebuilt in
//! reverse order), says "bye", waits for the client to go, and checks that both arenas are
//! back at their baseline: nothing the client held was leaked, whatever language it is in.
//!
//!   echo_server [-n NAME] [-p shared|lend] [-c CLIENTS] [-s SIZE,SIZE,...] [-r RECORDS]
//!               [-t TIMEOUT_MS]
//!
//! Prints "listening NAME" once clients may connect, one line per client, and exits 0 if
//! every check passed (1 otherwise, 3 if it could not start).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use shmipc::{Arena, ErrorKind, Object, Provider, ReadOnly, Server, ServerOptions, Session};
use shmipc_examples::catalog::{self, checksum};
use shmipc_examples::echo::{self, MSG_MAX};
use shmipc_examples::options;

struct Options {
    name: String,
    provider: Provider,
    clients: usize,
    sizes: Vec<usize>,
    records: u32,
    timeout: Option<Duration>,
}

fn parse(args: impl IntoIterator<Item = String>) -> Option<Options> {
    let mut o = Options {
        name: echo::default_server().to_owned(),
        provider: Provider::Shared,
        clients: 1,
        sizes: vec![64, 65536, 1 << 20],
        records: 100,
        timeout: Some(Duration::from_secs(10)),
    };
    for (letter, value) in options::parse(args, "npcsrt")? {
        match letter {
            'n' => o.name = value,
            'p' => {
                o.provider = match value.as_str() {
                    "shared" => Provider::Shared,
                    "lend" => Provider::Lend,
                    _ => return None,
                }
            }
            'c' => o.clients = value.parse().ok()?,
            'r' => o.records = value.parse().ok()?,
            't' => o.timeout = timeout(value.parse().ok()?),
            _ => {
                // 's': up to 16 sizes, none of them 0
                let sizes = value.split(',').filter(|s| !s.is_empty()).take(16);
                o.sizes = sizes
                    .map(|s| options::c_number(s).and_then(|n| usize::try_from(n).ok()))
                    .collect::<Option<_>>()?;
            }
        }
    }
    (o.clients > 0 && !o.sizes.contains(&0)).then_some(o)
}

/// A timeout in milliseconds as the C programs take it: negative waits forever.
fn timeout(ms: i32) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

fn fail(what: &str, err: &shmipc::Error) -> bool {
    eprintln!("echo_server: {what}: {} ({})", err.message(), err.detail());
    false
}

/// Wait for the client's answer: "<word> <n> <hex>" with an object.
fn recv_answer(s: &Session, o: &Options, word: &str) -> Option<(u64, u64, Object<ReadOnly>)> {
    let mut buf = [0u8; MSG_MAX];
    let msg = s
        .recv(&mut buf, o.timeout)
        .map_err(|e| fail("waiting for the answer", &e))
        .ok()?;
    let text = &buf[..msg.len];
    match (msg.object, echo::parse(text, word)) {
        (Some(object), Some((n, hash))) => Some((n, hash, object)),
        _ => {
            eprintln!(
                "echo_server: unexpected answer '{}'",
                String::from_utf8_lossy(text)
            );
            None
        }
    }
}

/// Lend n pattern bytes; the answer must hold them reversed.
fn check_bytes(s: &Session, o: &Options, n: usize) -> bool {
    let mut obj = match s.arena().new_object(n) {
        Ok(obj) => obj,
        Err(e) => return fail("allocating an object", &e),
    };
    echo::fill(&mut obj);
    let want: Vec<u8> = obj.iter().rev().copied().collect();
    let msg = echo::format("sum", n as u64, checksum(&obj));
    let sent = s.send_with(msg.as_bytes(), &obj.into_read_only());
    if let Err(e) = sent {
        return fail("sending", &e);
    }
    let Some((got_n, hash, answer)) = recv_answer(s, o, "sum") else {
        return false;
    };
    got_n == n as u64 && answer.len() == n && checksum(&answer) == hash && *answer == *want
}

/// Lend a catalogue; the answer must be the same records in reverse order.
fn check_catalog(s: &Session, o: &Options) -> bool {
    let want = catalog::expected_digest(o.records, true);
    let mut obj = match s.arena().new_object(catalog::size(o.records)) {
        Ok(obj) => obj,
        Err(e) => return fail("allocating the catalogue", &e),
    };
    let built = catalog::build(&mut obj, o.records, false).and_then(|()| catalog::digest(&obj));
    let Some((digest, count)) = built else {
        eprintln!("echo_server: the catalogue does not fit its object");
        return false;
    };
    let sent = s.send_with(
        echo::format("catalog", count, digest).as_bytes(),
        &obj.into_read_only(),
    );
    if let Err(e) = sent {
        return fail("sending the catalogue", &e);
    }
    let Some((got_n, hash, answer)) = recv_answer(s, o, "catalog") else {
        return false;
    };
    catalog::digest(&answer).is_some_and(|(digest, count)| {
        count == u64::from(o.records) && got_n == count && digest == hash && digest == want
    })
}

/// Say bye and wait until the client has gone.
fn see_off(s: &Session, o: &Options) -> bool {
    if let Err(e) = s.send(b"bye") {
        return fail("saying bye", &e);
    }
    let mut buf = [0u8; MSG_MAX];
    loop {
        match s.recv(&mut buf, o.timeout) {
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::Closed => return true,
            Err(e) => return fail("waiting for the client to close", &e),
        }
    }
}

fn used(arena: &Arena) -> usize {
    arena.stats().map_or(0, |stats| stats.used)
}

fn serve_one(server: &Server, o: &Options, index: usize) -> bool {
    let s = match server.accept(o.timeout) {
        Ok(s) => s,
        Err(e) => return fail("accept", &e),
    };
    let baseline = (used(s.arena()), used(s.app_arena()));
    let nbytes = o.sizes.iter().filter(|&&n| check_bytes(&s, o, n)).count();
    let mut good = nbytes == o.sizes.len();
    good &= check_catalog(&s, o);
    good &= see_off(&s, o);
    good &= (used(s.arena()), used(s.app_arena())) == baseline;
    println!(
        "client {index} (pid {}): {nbytes}/{} buffers, catalogue of {} records, arenas back to \
         baseline: {}",
        s.peer_pid(),
        o.sizes.len(),
        o.records,
        if good { "ok" } else { "FAILED" }
    );
    let _ = std::io::stdout().flush();
    good
}

fn main() -> ExitCode {
    let Some(o) = parse(std::env::args().skip(1)) else {
        eprintln!(
            "usage: echo_server [-n NAME] [-p shared|lend] [-c CLIENTS] [-s SIZE,...] \
             [-r RECORDS] [-t TIMEOUT_MS]"
        );
        return ExitCode::from(3);
    };
    // room for the largest object, with slack
    let arena_size = o
        .sizes
        .iter()
        .map(|&n| n * 2 + (1 << 20))
        .max()
        .unwrap_or(0);
    let options = ServerOptions::new()
        .provider(o.provider)
        .session_arena_size(arena_size);
    let server = match Server::open(&o.name, &options) {
        Ok(server) => server,
        Err(e) => {
            fail("server_open", &e);
            return ExitCode::from(3);
        }
    };
    println!("listening {}", o.name);
    let _ = std::io::stdout().flush();
    let good = (0..o.clients)
        .filter(|&i| serve_one(&server, &o, i))
        .count();
    ExitCode::from(if good == o.clients { 0 } else { 1 })
}
