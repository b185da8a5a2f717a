//! echo_client — the client of the echo roles (examples/README.md), in Rust.
//!
//! Connects to an echo server (written in any language), checks every object it borrows,
//! answers each with an object of its own — the bytes reversed, or the catalogue rebuilt in
//! reverse order — and exits 0 when the server says "bye".
//!
//!   echo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]
//!
//! Exit status: 0 all checks passed, 2 a borrowed object did not match its message,
//! 3 could not connect, 4 a protocol or session error.

use std::process::ExitCode;
use std::time::Duration;

use shmipc::{ClientOptions, Object, ReadOnly, Session};
use shmipc_examples::catalog::{self, checksum};
use shmipc_examples::echo::{self, MSG_MAX};
use shmipc_examples::options;

fn fail(what: &str, err: &shmipc::Error, status: u8) -> u8 {
    eprintln!("echo_client: {what}: {} ({})", err.message(), err.detail());
    status
}

/// Answer "sum": the same bytes, reversed, in an object of ours.
fn answer_bytes(s: &Session, got: &Object<ReadOnly>, n: u64, hash: u64) -> u8 {
    if got.len() as u64 != n || checksum(got) != hash {
        return 2;
    }
    let mut mine = match s.arena().new_object(got.len()) {
        Ok(mine) => mine,
        Err(e) => return fail("allocating the answer", &e, 4),
    };
    for (dst, src) in mine.iter_mut().zip(got.iter().rev()) {
        *dst = *src;
    }
    let msg = echo::format("sum", n, checksum(&mine));
    match s.send_with(msg.as_bytes(), &mine.into_read_only()) {
        Ok(()) => 0,
        Err(e) => fail("sending the answer", &e, 4),
    }
}

/// Answer "catalog": walk the server's catalogue, send the same records in reverse order.
fn answer_catalog(s: &Session, got: &Object<ReadOnly>, n: u64, hash: u64) -> u8 {
    let count = match (catalog::digest(got), u32::try_from(n)) {
        (Some((digest, count)), Ok(n32)) if count == n && digest == hash => n32,
        _ => return 2,
    };
    let mut mine = match s.arena().new_object(catalog::size(count)) {
        Ok(mine) => mine,
        Err(e) => return fail("allocating the catalogue", &e, 4),
    };
    let built = catalog::build(&mut mine, count, true).and_then(|()| catalog::digest(&mine));
    let Some((digest, count)) = built else {
        return 4;
    };
    match s.send_with(
        echo::format("catalog", count, digest).as_bytes(),
        &mine.into_read_only(),
    ) {
        Ok(()) => 0,
        Err(e) => fail("sending the catalogue", &e, 4),
    }
}

fn serve(s: &Session, timeout: Option<Duration>) -> u8 {
    loop {
        let mut buf = [0u8; MSG_MAX];
        let msg = match s.recv(&mut buf, timeout) {
            Ok(msg) => msg,
            Err(e) => return fail("receiving", &e, 4),
        };
        let text = &buf[..msg.len];
        let status = match &msg.object {
            None if text == b"bye" => return 0,
            Some(got) => match (echo::parse(text, "sum"), echo::parse(text, "catalog")) {
                (Some((n, hash)), _) => answer_bytes(s, got, n, hash),
                (_, Some((n, hash))) => answer_catalog(s, got, n, hash),
                _ => 4,
            },
            None => 4,
        };
        if status != 0 {
            let text = String::from_utf8_lossy(text);
            eprintln!("echo_client: message '{text}' failed its check ({status})");
            return status;
        }
    }
}

fn main() -> ExitCode {
    let defaults = (
        echo::default_server().into(),
        echo::default_app().into(),
        10000,
    );
    let Some((server, app, timeout_ms)) = options::client(std::env::args().skip(1), defaults)
    else {
        return usage();
    };
    // As in C: 0 is the library's default for connecting (and a poll for receiving);
    // negative waits forever.
    let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
    let mut client_options = ClientOptions::new();
    if timeout_ms != 0 {
        client_options = client_options.timeout(timeout);
    }
    let session = match Session::connect(&server, &app, &client_options) {
        Ok(session) => session,
        Err(e) => return ExitCode::from(fail("connect", &e, 3)),
    };
    ExitCode::from(serve(&session, timeout))
}

fn usage() -> ExitCode {
    eprintln!("usage: echo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]");
    ExitCode::from(3)
}
