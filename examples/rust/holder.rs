//! holder — a peer for crash tests, not an example to copy: connects to SERVER as APP
//! (default "holder"), borrows every object lent to it and keeps it, and prints "held N"
//! after each, until it is killed (or the server goes: exit 0). Exit 3: could not connect;
//! 4: receiving failed otherwise (the error on stderr).
//!
//!   holder SERVER [APP]

use std::io::Write;
use std::process::ExitCode;

use shmipc::{ClientOptions, ErrorKind, Session};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (server, app) = match args.as_slice() {
        [server] => (server.as_str(), "holder"),
        [server, app] => (server.as_str(), app.as_str()),
        _ => {
            eprintln!("usage: holder SERVER [APP]");
            return ExitCode::from(3);
        }
    };
    let session = match Session::connect(server, app, &ClientOptions::new()) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("holder: connect: {e}");
            return ExitCode::from(3);
        }
    };
    let mut held = Vec::new();
    loop {
        match session.recv(&mut [0; 64], None) {
            Ok(msg) => held.extend(msg.object),
            Err(e) if e.kind() == ErrorKind::Closed => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("holder: receiving: {e}");
                return ExitCode::from(4);
            }
        }
        println!("held {}", held.len());
        let _ = std::io::stdout().flush();
    }
}
