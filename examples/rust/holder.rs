//! holder — a peer for crash tests, not an example to copy: connects to SERVER as APP
//! (default "holder"), borrows every object lent to it and keeps it, and prints "held N"
//! after each, until it is killed (or the server goes: exit 0). Exit 3: could not connect.
//!
//!   holder SERVER [APP]

use std::io::Write;
use std::process::ExitCode;

use shmipc::{ClientOptions, Session};

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
    while let Ok(msg) = session.recv(&mut [0; 64], None) {
        held.extend(msg.object);
        println!("held {}", held.len());
        let _ = std::io::stdout().flush();
    }
    ExitCode::SUCCESS
}
